#pragma once
// Operator commands that work on the hub's database directly (the service may be running: SQLite
// in WAL mode takes both). For installs, the demo and tests:
//   user add --login L --role R [--name "Display Name"]   prints a generated password
//   user passwd --login L                                  prints a new generated password
//   user list
//   token create --login L [--name N]                      prints an API token for scripts
//   room add --name N [--default-teacher LOGIN]            prints the room id
//   unit add --name N [--room ROOM] [--id ID]              prints the unit id and its token
//   unit token --id ID                                     prints a new token for the unit
//   unit pair --id ID                                      prints a one-time pairing code for enrolment
#include <ostream>
#include <string>
#include <vector>

#include "common/config/hub_config.hpp"

namespace classcam::hub {

bool is_admin_command(const std::string& word);

// Returns the process exit code: 0 done, 2 usage error, 1 refused (the message says why).
int run_admin_command(const config::HubConfig& config, const std::vector<std::string>& args, std::ostream& out,
                      std::ostream& err);

void print_admin_usage(std::ostream& out);

}  // namespace classcam::hub
