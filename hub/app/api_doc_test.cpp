// docs/hub-api.md documents every route and no route that does not exist: its "### `METHOD /path`"
// headings must be exactly the router's routes.
#include <gtest/gtest.h>

#include <regex>
#include <set>

#include "hub/app/service.hpp"
#include "hub/http/router.hpp"
#include "hub/testing/test_hub.hpp"
#include "tests/support/tempdir.hpp"

using namespace classcam;

TEST(ApiDoc, HeadingsAreExactlyTheRoutes) {
  test::TempDir dir;
  auto cfg = hub::testkit::test_config(dir / "state");
  hub::Service service(cfg);  // built, not started: the router is complete
  std::set<std::string> routes;
  for (const auto& r : service.router().routes()) routes.insert(r.method + " " + r.pattern);

  const std::string doc = test::read_file(std::filesystem::path(CLASSCAM_SOURCE_DIR) / "docs/hub-api.md");
  std::set<std::string> documented;
  const std::regex heading("^### `([A-Z]+) (/[^`]*)`", std::regex::multiline);
  for (auto it = std::sregex_iterator(doc.begin(), doc.end(), heading); it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(documented.insert((*it)[1].str() + " " + (*it)[2].str()).second) << "documented twice: " << (*it)[0];
  }
  for (const auto& r : routes) EXPECT_TRUE(documented.count(r)) << "docs/hub-api.md does not document " << r;
  for (const auto& d : documented)
    EXPECT_TRUE(routes.count(d)) << "docs/hub-api.md documents " << d << ", no such route";
}
