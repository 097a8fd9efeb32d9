// Tests of interface groups and port state: the iproute2-format group file (config/groups.cc), the
// YAML keys group_file, groups, ports[].group and ports[].state (config/loader.cc), and the lookups
// GroupId and GroupName. Error messages are part of the contract, as in loader_test.cc.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace vr::config {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPortA = "ports:\n  - name: a\n    device: net_tap0\n";

std::string FirstLine(const absl::Status& s) {
  std::string m(s.message());
  return m.substr(0, m.find('\n'));
}

// A fresh directory per test, so that relative group_file paths have somewhere to point.
fs::path TestDir() {
  const testing::TestInfo* t = testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(t->test_suite_name()) + "." + t->name();
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  fs::path dir = fs::path(testing::TempDir()) / "vr_groups_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return fs::canonical(dir);
}

void WriteFile(const fs::path& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::vector<GroupConfig> Groups(std::initializer_list<GroupConfig> g) { return g; }

// --- The group file -----------------------------------------------------------------------------

TEST(ParseGroupFile, ReadsIproute2Format) {
  absl::StatusOr<std::vector<GroupConfig>> g = ParseGroupFile(
      "# comment\n"
      "\n"
      "0\tdefault\n"
      "   \t\n"
      "  # indented comment\n"
      "  7   uplinks   # trailing comment\n"
      "0x10\tcustomers\r\n"
      "0x7fffffff last.one_-\n"
      "2147483646 Z\n"
      "7 uplinks\n"  // the same pair again is no conflict, and is kept once
      "0x0000002A\t_x",
      "g");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(*g, Groups({{0, "default"},
                        {7, "uplinks"},
                        {16, "customers"},
                        {2147483647, "last.one_-"},
                        {2147483646, "Z"},
                        {42, "_x"}}));
  EXPECT_EQ((*g)[1].loc.file, "g");
  EXPECT_EQ((*g)[1].loc.line, 6);
  EXPECT_EQ((*g)[1].loc.column, 3);
  for (const GroupConfig& e : *g) EXPECT_EQ(e.source, GroupSource::kFile);
}

TEST(ParseGroupFile, EmptyFileHasNoGroups) {
  for (std::string_view text : {"", "\n", "# only a comment\n", "  \t \n\n"}) {
    absl::StatusOr<std::vector<GroupConfig>> g = ParseGroupFile(text, "g");
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_TRUE(g->empty());
  }
}

TEST(ParseGroupFile, ErrorShowsTheLineAndACaret) {
  absl::StatusOr<std::vector<GroupConfig>> g =
      ParseGroupFile("0 default\n\t12\t9lives\n", "/etc/vrouter/group");
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(g.status().message(),
            "/etc/vrouter/group:2:5: expected a group name of 1 to 32 characters from A-Z a-z 0-9 "
            "_ . -, not starting with a digit, got '9lives'\n"
            "\t12\t9lives\n"
            "\t  \t^");
}

TEST(ParseGroupFile, DuplicateNamesTheFirstDefinition) {
  absl::StatusOr<std::vector<GroupConfig>> g =
      ParseGroupFile("1 a\n2 b\n  2 c\n", "/etc/vrouter/group");
  EXPECT_EQ(g.status().message(),
            "/etc/vrouter/group:3:3: group 2 is already named 'b' (/etc/vrouter/group:2); a group "
            "has one name\n"
            "  2 c\n"
            "  ^");
}

struct FileError {
  const char* name;
  const char* text;
  const char* first_line;
};

void PrintTo(const FileError& c, std::ostream* os) { *os << c.name; }

class GroupFileError : public testing::TestWithParam<FileError> {};

TEST_P(GroupFileError, FirstLineNamesPlaceAndProblem) {
  absl::StatusOr<std::vector<GroupConfig>> g = ParseGroupFile(GetParam().text, "g");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FirstLine(g.status()), GetParam().first_line) << g.status().message();
}

#define BAD_ID "expected a group id between 0 and 2147483647 (decimal, or hex after 0x), got "
#define BAD_NAME                                                                           \
  "expected a group name of 1 to 32 characters from A-Z a-z 0-9 _ . -, not starting with " \
  "a digit, got "

const FileError kFileErrors[] = {
    {"IdWord", "# x\nweb 1\n", "g:2:1: " BAD_ID "'web'"},
    {"IdTooBig", "2147483648 big\n", "g:1:1: " BAD_ID "'2147483648'"},
    {"IdWayTooBig", "99999999999999999999 big\n", "g:1:1: " BAD_ID "'99999999999999999999'"},
    {"HexTooBig", "0x80000000 big\n", "g:1:1: " BAD_ID "'0x80000000'"},
    {"Negative", "-1 neg\n", "g:1:1: " BAD_ID "'-1'"},
    {"LeadingZero", "010 octal\n", "g:1:1: " BAD_ID "'010'"},
    {"UpperHexPrefix", "0X10 x\n", "g:1:1: " BAD_ID "'0X10'"},
    {"HexEmpty", "0x web\n", "g:1:1: " BAD_ID "'0x'"},
    {"HexBadDigit", "0x1g web\n", "g:1:1: " BAD_ID "'0x1g'"},
    {"IdWithSign", "+1 web\n", "g:1:1: " BAD_ID "'+1'"},
    {"NoName", "0 default\n5\n", "g:2:2: expected a group name after the id, got nothing"},
    {"OnlyCommentAfterId", "5 # web\n", "g:1:3: expected a group name after the id, got nothing"},
    {"NameStartsWithDigit", "5 5web\n", "g:1:3: " BAD_NAME "'5web'"},
    {"NameBadCharacter", "5 we$b\n", "g:1:3: " BAD_NAME "'we$b'"},
    {"NameWithHash", "5 web#1\n", "g:1:3: " BAD_NAME "'web#1'"},
    {"NameTooLong", "5 A2345678901234567890123456789012X\n",
     "g:1:3: " BAD_NAME "'A2345678901234567890123456789012X'"},
    {"TextAfterName", "5 web servers\n",
     "g:1:7: unexpected 'servers' after the group name; a line is \"ID NAME\", optionally "
     "followed by a # comment"},
    {"IdTwice", "1 a\n2 b\n1 c\n",
     "g:3:1: group 1 is already named 'a' (g:1); a group has one name"},
    {"NameTwice", "1 a\n2 b\n3\tb\n", "g:3:3: group name 'b' already means group 2 (g:2)"},
    {"IdClashWinsOverNameClash", "1 a\n2 b\n2 a\n",
     "g:3:1: group 2 is already named 'b' (g:2); a group has one name"},
};

INSTANTIATE_TEST_SUITE_P(All, GroupFileError, testing::ValuesIn(kFileErrors),
                         [](const testing::TestParamInfo<FileError>& info) {
                           return std::string(info.param.name);
                         });

TEST(LoadGroupFile, LoadsTheShippedFile) {
  std::string path = VR_SOURCE_DIR "/config/group";
  absl::StatusOr<std::vector<GroupConfig>> g = LoadGroupFile(path);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(*g, Groups({{0, "default"}}));
  EXPECT_EQ((*g)[0].loc.file, path);
}

// The commented examples of the shipped file are valid lines once uncommented.
TEST(LoadGroupFile, ShippedExamplesAreValid) {
  std::ifstream in(VR_SOURCE_DIR "/config/group");
  std::string uncommented, line;
  while (std::getline(in, line)) {
    if (line.rfind("# ", 0) == 0 && line.size() > 2 && std::isdigit(line[2])) line.erase(0, 2);
    uncommented += line + "\n";
  }
  absl::StatusOr<std::vector<GroupConfig>> g = ParseGroupFile(uncommented, "group");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(*g, Groups({{0, "default"}, {1, "uplinks"}, {16, "customers"}}));
}

TEST(LoadGroupFile, MissingFileSaysSo) {
  absl::StatusOr<std::vector<GroupConfig>> g = LoadGroupFile("/nonexistent/group");
  EXPECT_EQ(g.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(g.status().message(), "/nonexistent/group: cannot open: No such file or directory");
}

// --- group_file in the YAML ---------------------------------------------------------------------

TEST(GroupFileKey, RelativePathIsTakenFromTheYamlDirectory) {
  fs::path dir = TestDir();
  fs::create_directories(dir / "etc");
  WriteFile(dir / "etc" / "group", "0 default\n20 uplinks\n10 customers\n");
  WriteFile(dir / "etc" / "vrouter.yaml", std::string("group_file: ./sub/../group\n") +
                                              std::string(kPortA) + "    group: uplinks\n");
  absl::StatusOr<Config> c = LoadConfigFile((dir / "etc" / "vrouter.yaml").string());
  ASSERT_TRUE(c.ok()) << c.status();
  // Absolute and normalised, so that a copy written elsewhere still names this file.
  EXPECT_EQ(c->group_file, (dir / "etc" / "group").string());
  EXPECT_EQ(c->groups, Groups({{0, "default"}, {10, "customers"}, {20, "uplinks"}}));
  EXPECT_EQ(c->groups[0].source, GroupSource::kBuiltin);  // the file's "0 default" adds nothing
  EXPECT_EQ(c->groups[1].source, GroupSource::kFile);
  EXPECT_EQ(c->groups[1].loc.file, (dir / "etc" / "group").string());
  EXPECT_EQ(c->groups[1].loc.line, 3);
  EXPECT_EQ(c->ports[0].group, 20u);
}

TEST(GroupFileKey, AbsolutePathIsKept) {
  fs::path dir = TestDir();
  WriteFile(dir / "names", "5 five\n");
  absl::StatusOr<Config> c = ParseConfig(
      "group_file: " + (dir / "names").string() + "\n" + std::string(kPortA), "/elsewhere/x.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->group_file, (dir / "names").string());
  EXPECT_EQ(c->groups, Groups({{0, "default"}, {5, "five"}}));
}

TEST(GroupFileKey, MissingFileIsAnErrorAtTheKey) {
  fs::path dir = TestDir();
  absl::StatusOr<Config> c =
      ParseConfig("group_file: nope\n" + std::string(kPortA), (dir / "x.yaml").string());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), (dir / "x.yaml").string() + ":1:13: group_file: " +
                                      (dir / "nope").string() +
                                      ": cannot open: No such file or directory\n"
                                      "group_file: nope\n"
                                      "            ^");
}

TEST(GroupFileKey, ErrorsInTheFilePointIntoTheFile) {
  fs::path dir = TestDir();
  WriteFile(dir / "group", "0 default\n1 up links\n");
  absl::StatusOr<Config> c =
      ParseConfig("group_file: group\n" + std::string(kPortA), (dir / "x.yaml").string());
  EXPECT_EQ(c.status().message(),
            (dir / "group").string() +
                ":2:6: unexpected 'links' after the group name; a line is \"ID NAME\", optionally "
                "followed by a # comment\n"
                "1 up links\n"
                "     ^");
}

TEST(GroupFileKey, FileMayNotRenameTheDefaultGroup) {
  fs::path dir = TestDir();
  WriteFile(dir / "group", "0 all\n");
  absl::StatusOr<Config> c =
      ParseConfig("group_file: group\n" + std::string(kPortA), (dir / "x.yaml").string());
  EXPECT_EQ(FirstLine(c.status()),
            (dir / "group").string() +
                ":1:1: group 0 is already named 'default' (built in); a group has one name");
  WriteFile(dir / "group", "1 default\n");
  c = ParseConfig("group_file: group\n" + std::string(kPortA), (dir / "x.yaml").string());
  EXPECT_EQ(FirstLine(c.status()),
            (dir / "group").string() +
                ":1:3: group name 'default' already means group 0 (built in)");
}

TEST(GroupFileKey, LoadsTheShippedFile) {
  absl::StatusOr<Config> c = ParseConfig(
      "group_file: ../config/group\n" + std::string(kPortA) + "    group: default\n",
      VR_SOURCE_DIR "/docs/vrouter.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->group_file, fs::path(VR_SOURCE_DIR "/config/group").lexically_normal().string());
  EXPECT_EQ(c->groups, Groups({{0, "default"}}));
}

// --- groups and ports[].group in the YAML -------------------------------------------------------

TEST(GroupsKey, NamesGroupsForPorts) {
  absl::StatusOr<Config> c = ParseConfig(R"(
ports:
  - {name: a, device: net_tap0, group: web}
  - {name: b, device: net_tap1, group: 7}
  - {name: c, device: net_tap2, group: 12345}
  - {name: d, device: net_tap3, group: 0x10}
  - {name: e, device: net_tap4, group: default}
  - {name: f, device: net_tap5, group: 0}
  - {name: g, device: net_tap6}
groups:
  - id: 7
    name: web
  - {id: 0x10, name: db}
  - {id: 2147483647, name: max}
  - {id: 7, name: web}
)",
                                         "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->groups, Groups({{0, "default"}, {7, "web"}, {16, "db"}, {2147483647, "max"}}));
  EXPECT_EQ(c->groups[1].source, GroupSource::kYaml);
  EXPECT_EQ(c->groups[1].loc.line, 11);
  EXPECT_EQ(c->groups[1].loc.column, 5);
  std::vector<uint32_t> groups;
  for (const PortConfig& p : c->ports) groups.push_back(p.group);
  EXPECT_EQ(groups, (std::vector<uint32_t>{7, 7, 12345, 16, 0, 0, 0}));
}

TEST(GroupsKey, YamlAndFileMayRepeatAPair) {
  fs::path dir = TestDir();
  WriteFile(dir / "group", "7 web\n");
  absl::StatusOr<Config> c = ParseConfig(
      "group_file: group\ngroups: [{id: 7, name: web}, {id: 0, name: default}, {id: 8, name: "
      "db}]\n" + std::string(kPortA),
      (dir / "x.yaml").string());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->groups, Groups({{0, "default"}, {7, "web"}, {8, "db"}}));
  EXPECT_EQ(c->groups[1].source, GroupSource::kFile);  // the first definition is kept
  EXPECT_EQ(c->groups[2].source, GroupSource::kYaml);
}

TEST(GroupsKey, ConflictWithTheFileNamesBoth) {
  fs::path dir = TestDir();
  WriteFile(dir / "group", "# names\n7 web\n");
  std::string yaml = (dir / "x.yaml").string();
  absl::StatusOr<Config> c = ParseConfig(
      std::string(kPortA) + "groups:\n  - {id: 7, name: www}\n", yaml);
  ASSERT_TRUE(c.ok());  // without the file there is nothing to clash with
  c = ParseConfig("group_file: group\n" + std::string(kPortA) + "groups:\n  - {id: 7, name: www}\n",
                  yaml);
  EXPECT_EQ(c.status().message(),
            yaml + ":6:10: group 7 is already named 'web' (" + (dir / "group").string() +
                ":2); a group has one name\n"
                "  - {id: 7, name: www}\n"
                "         ^");
  c = ParseConfig("group_file: group\n" + std::string(kPortA) + "groups:\n  - {id: 8, name: web}\n",
                  yaml);
  EXPECT_EQ(FirstLine(c.status()), yaml + ":6:19: group name 'web' already means group 7 (" +
                                       (dir / "group").string() + ":2)");
}

TEST(PortGroup, UnknownNameListsTheKnownOnes) {
  absl::StatusOr<Config> c = ParseConfig(std::string(kPortA) +
                                             "    group: wbe\n"
                                             "groups: [{id: 9, name: web}, {id: 3, name: db}]\n",
                                         "/etc/vrouter/x.yaml");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "/etc/vrouter/x.yaml:4:12: group: unknown group 'wbe'; known: default, db, web\n"
            "    group: wbe\n"
            "           ^");
}

struct YamlError {
  const char* name;
  std::string yaml;
  const char* first_line;
};

void PrintTo(const YamlError& c, std::ostream* os) { *os << c.name; }

class GroupYamlError : public testing::TestWithParam<YamlError> {};

TEST_P(GroupYamlError, FirstLineNamesPlaceAndProblem) {
  absl::StatusOr<Config> c = ParseConfig(GetParam().yaml, "t.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FirstLine(c.status()), GetParam().first_line) << c.status().message();
}

std::string PortWith(std::string_view key) { return std::string(kPortA) + std::string(key); }

const YamlError kYamlErrors[] = {
    // ports[].group
    {"PortGroupUnknown", PortWith("    group: web\n"),
     "t.yaml:4:12: group: unknown group 'web'; known: default"},
    {"PortGroupIdTooBig", PortWith("    group: 2147483648\n"),
     "t.yaml:4:12: group: " BAD_ID "'2147483648'"},
    {"PortGroupLeadingZero", PortWith("    group: 07\n"), "t.yaml:4:12: group: " BAD_ID "'07'"},
    {"PortGroupNegative", PortWith("    group: -1\n"),
     "t.yaml:4:12: group: unknown group '-1'; known: default"},
    {"PortGroupEmpty", PortWith("    group:\n"),
     "t.yaml:4:5: group: expected a group name or an id between 0 and 2147483647, got nothing"},
    {"PortGroupList", PortWith("    group: [web]\n"),
     "t.yaml:4:12: group: expected a group name or an id between 0 and 2147483647, got a list"},
    // ports[].state
    {"StateOff", PortWith("    state: off\n"),
     "t.yaml:4:12: state: expected up or down, got 'off'"},
    {"StateUpperCase", PortWith("    state: UP\n"),
     "t.yaml:4:12: state: expected up or down, got 'UP'"},
    {"StateTrue", PortWith("    state: true\n"),
     "t.yaml:4:12: state: expected up or down, got 'true'"},
    {"StateEmpty", PortWith("    state:\n"), "t.yaml:4:5: state: expected up or down, got nothing"},
    {"StateMap", PortWith("    state: {admin: up}\n"),
     "t.yaml:4:12: state: expected up or down, got a map"},
    {"StateTwice", PortWith("    state: up\n    state: down\n"),
     "t.yaml:5:5: duplicate key 'state' in port (first given on line 4)"},
    // groups
    {"GroupsNotList", PortWith("groups: {id: 1, name: a}\n"),
     "t.yaml:4:9: groups: expected a list of groups like {id: 10, name: uplinks}, got a map"},
    {"GroupsEmptyItem", PortWith("groups:\n  -\n"), "t.yaml:4:1: groups: item 1 is empty"},
    {"GroupNotMap", PortWith("groups: [web]\n"),
     "t.yaml:4:10: group: expected a map with keys id, name, mtu, state, impairment, templates, "
     "got 'web'"},
    {"GroupMissingId", PortWith("groups:\n  - name: web\n"),
     "t.yaml:5:5: missing key 'id' in group"},
    {"GroupNamelessTwice", PortWith("groups:\n  - id: 1\n  - {id: 1, name: a}\n"),
     "t.yaml:6:10: group 1 is already listed on line 5; give a group's name, settings and "
     "templates in one entry"},
    {"GroupUnknownKey", PortWith("groups:\n  - {id: 1, name: a, desc: x}\n"),
     "t.yaml:5:22: unknown key 'desc' in group; expected one of: id, name, mtu, state, "
     "impairment, templates"},
    {"GroupBadId", PortWith("groups:\n  - {id: one, name: a}\n"),
     "t.yaml:5:10: id: " BAD_ID "'one'"},
    {"GroupIdList", PortWith("groups:\n  - {id: [1], name: a}\n"),
     "t.yaml:5:10: id: expected a group id between 0 and 2147483647, got a list"},
    {"GroupNameDigit", PortWith("groups:\n  - {id: 1, name: 1st}\n"),
     "t.yaml:5:19: name: " BAD_NAME "'1st'"},
    {"GroupNameEmpty", PortWith("groups:\n  - {id: 1, name: ''}\n"),
     "t.yaml:5:19: name: " BAD_NAME "''"},
    {"GroupIdTwice", PortWith("groups:\n  - {id: 1, name: a}\n  - {id: 1, name: b}\n"),
     "t.yaml:6:10: group 1 is already named 'a' (t.yaml:5); a group has one name"},
    {"GroupNameTwice", PortWith("groups:\n  - {id: 1, name: a}\n  - {id: 0x2, name: a}\n"),
     "t.yaml:6:21: group name 'a' already means group 1 (t.yaml:5)"},
    {"GroupRenamesDefault", PortWith("groups:\n  - {id: 0, name: all}\n"),
     "t.yaml:5:10: group 0 is already named 'default' (built in); a group has one name"},
    {"GroupFileEmpty", PortWith("group_file: ''\n"),
     "t.yaml:4:13: group_file: expected the path of a group file (iproute2 format), got ''"},
    {"GroupFileList", PortWith("group_file: [a]\n"),
     "t.yaml:4:13: group_file: expected the path of a group file (iproute2 format), got a list"},
};

INSTANTIATE_TEST_SUITE_P(All, GroupYamlError, testing::ValuesIn(kYamlErrors),
                         [](const testing::TestParamInfo<YamlError>& info) {
                           return std::string(info.param.name);
                         });

TEST(PortState, UpOrDown) {
  absl::StatusOr<Config> c = ParseConfig(R"(
ports:
  - {name: a, device: net_tap0, state: down}
  - {name: b, device: net_tap1, state: up}
  - {name: c, device: net_tap2}
)",
                                         "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->ports[0].up);
  EXPECT_TRUE(c->ports[1].up);
  EXPECT_TRUE(c->ports[2].up);
}

// --- GroupId and GroupName ----------------------------------------------------------------------

TEST(GroupLookup, NamesAndIds) {
  absl::StatusOr<Config> c = ParseConfig(
      std::string(kPortA) + "groups: [{id: 7, name: web}, {id: 2147483647, name: max}]\n",
      "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(GroupId(*c, "default"), 0u);
  EXPECT_EQ(GroupId(*c, "web"), 7u);
  EXPECT_EQ(GroupId(*c, "max"), 2147483647u);
  EXPECT_EQ(GroupId(*c, "7"), 7u);
  EXPECT_EQ(GroupId(*c, "0"), 0u);
  EXPECT_EQ(GroupId(*c, "99"), 99u);  // an id needs no name
  EXPECT_EQ(GroupId(*c, "0x10"), 16u);
  EXPECT_EQ(GroupId(*c, "2147483647"), 2147483647u);
  for (std::string_view bad : {"", "Web", "www", "2147483648", "-1", "07", " 7", "7 ", "web "}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(GroupId(*c, bad), std::nullopt);
  }
  EXPECT_EQ(GroupName(*c, 0), "default");
  EXPECT_EQ(GroupName(*c, 7), "web");
  EXPECT_EQ(GroupName(*c, 2147483647), "max");
  EXPECT_EQ(GroupName(*c, 99), "99");
  EXPECT_EQ(GroupName(Config{}, 0), "0");  // a Config built by hand has no table
}

TEST(GroupText, ParseGroupIdAndIsGroupName) {
  EXPECT_EQ(*ParseGroupId("0"), 0u);
  EXPECT_EQ(*ParseGroupId("0x0"), 0u);
  EXPECT_EQ(*ParseGroupId("0xAbC"), 0xabcu);
  EXPECT_EQ(*ParseGroupId("0x7fffffff"), kMaxGroupId);
  for (std::string_view bad : {"", "0x", "x1", "1e3", "1.0", "00", "0x-1", "4294967295"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseGroupId(bad).ok());
  }
  for (std::string_view good : {"a", "default", "_1", ".x", "-x", "A-b_c.d",
                                "A2345678901234567890123456789012"}) {
    EXPECT_TRUE(IsGroupName(good)) << good;
  }
  for (std::string_view bad :
       {"", "1a", "0", "a b", "a/b", "a:b", "é", "A2345678901234567890123456789012X"}) {
    EXPECT_FALSE(IsGroupName(bad)) << bad;
  }
}

}  // namespace
}  // namespace vr::config
