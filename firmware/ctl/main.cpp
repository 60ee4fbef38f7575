// classcamctl: command-line client of classcamd's control socket. See ctl.hpp.
#include <iostream>
#include <string>
#include <vector>

#include "firmware/control/client.hpp"
#include "firmware/ctl/ctl.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return classcam::ctl::run(args, std::cout, std::cerr, &classcam::control::call);
}
