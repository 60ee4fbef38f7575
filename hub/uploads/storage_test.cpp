#include "hub/uploads/storage.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>

#include "tests/support/tempdir.hpp"

using namespace classcam;
using namespace classcam::hub::uploads;

TEST(UploadStorage, WritesChunksAtTheirOffset) {
  test::TempDir dir;
  const auto f = dir / "u.part";
  ASSERT_TRUE(create_empty(f));
  EXPECT_FALSE(create_empty(f)) << "exclusive";
  EXPECT_TRUE(write_chunk(f, 0, "hello ").ok);
  EXPECT_TRUE(write_chunk(f, 6, "world").ok);
  EXPECT_EQ(test::read_file(f), "hello world");
  ASSERT_TRUE(truncate_to(f, 5));
  EXPECT_EQ(test::read_file(f), "hello");
  ASSERT_TRUE(truncate_to(f, 50));
  EXPECT_EQ(test::read_file(f), "hello") << "never grows a file";
}

// A full disk is simulated with RLIMIT_FSIZE (EFBIG, handled like ENOSPC): the chunk must leave no
// trace and the failure must say "no space".
TEST(UploadStorage, AFailedWriteLeavesTheFileAsItWas) {
  test::TempDir dir;
  const auto f = dir / "u.part";
  ASSERT_TRUE(create_empty(f));
  ASSERT_TRUE(write_chunk(f, 0, std::string(1000, 'a')).ok);
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ::getrlimit(RLIMIT_FSIZE, &old);
  rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const auto w = write_chunk(f, 1000, std::string(10000, 'b'));
  ::setrlimit(RLIMIT_FSIZE, &old);
  EXPECT_FALSE(w.ok);
  EXPECT_TRUE(w.no_space) << w.message;
  EXPECT_EQ(test::read_file(f), std::string(1000, 'a'));
}

TEST(UploadStorage, ReportsFreeSpace) {
  test::TempDir dir;
  const auto f = free_bytes(dir.path());
  ASSERT_TRUE(f);
  EXPECT_GT(*f, 0u);
  EXPECT_FALSE(free_bytes(dir / "missing"));
}

// A chunk written piece by piece counts only once kept: given up, or dropped, it is cut back off, and
// bytes past the offset from an earlier crash are cut off when the next chunk starts.
TEST(UploadStorage, AChunkNotKeptIsCutBackOff) {
  test::TempDir dir;
  const auto f = dir / "u.part";
  ASSERT_TRUE(create_empty(f));
  ASSERT_TRUE(write_chunk(f, 0, "kept").ok);
  {
    auto w = ChunkWriter::open(f, 4);
    ASSERT_TRUE(w);
    EXPECT_TRUE((*w)->append(" and").ok);
    EXPECT_TRUE((*w)->append(" more").ok);
    EXPECT_EQ((*w)->written(), 9u);
    EXPECT_EQ(test::read_file(f), "kept and more");
  }  // dropped without keep()
  EXPECT_EQ(test::read_file(f), "kept");
  test::write_file(f, "kept+stray bytes");
  {
    auto w = ChunkWriter::open(f, 4);
    ASSERT_TRUE(w);
    EXPECT_EQ(test::read_file(f), "kept") << "stray bytes past the offset are cut first";
    EXPECT_TRUE((*w)->append("!").ok);
    EXPECT_TRUE((*w)->sync().ok);
    (*w)->keep();
  }
  EXPECT_EQ(test::read_file(f), "kept!");
}
