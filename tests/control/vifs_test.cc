// The vif and group table: what workers read after each control change (stamped settings,
// classifier entries, template blocks), and the books control keeps (names, ids, profiles).
#include "control/vifs.h"

#include "gtest/gtest.h"
#include "tests/support/packets.h"

namespace vr::control {
namespace {

using dataplane::VifView;
using vr::testing::Ip;

const rte_ether_addr kMac = {{0x02, 0, 0, 0, 0, 0x01}};

class VifsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    table_ = std::make_unique<dataplane::VifTable>();
    ASSERT_TRUE(table_->ok());
    vifs_ = std::make_unique<Vifs>(table_.get(), [this] { ++syncs_; });
    ASSERT_TRUE(vifs_->AddPort(0, "a", kMac, 1500, true, 0, {{Ip(198, 18, 1, 1), 24}}).ok());
  }
  const VifView& view(uint32_t id) { return table_->vif(id); }

  std::unique_ptr<dataplane::VifTable> table_;
  std::unique_ptr<Vifs> vifs_;
  int syncs_ = 0;
};

config::TemplateConfig VlanTemplate(uint16_t first, uint16_t last) {
  config::TemplateConfig t;
  t.parent = "a";
  t.outer = {first, last};
  t.address = config::Ip4Prefix{Ip(198, 18, 64, 0), 31};
  t.address_step = 2;
  return t;
}

TEST_F(VifsTest, SubinterfaceIsClassifiedByItsTags) {
  auto id = vifs_->AddSub("a.7", 0, 7, 0, kMac, 0, 1500, {}, {});
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_GE(*id, uint32_t(RTE_MAX_ETHPORTS)) << "ids below are the ports'";
  EXPECT_EQ(table_->Classify(0, false, 7, 0), *id);
  EXPECT_EQ(table_->Classify(0, false, 8, 0), dataplane::kNoVif);
  EXPECT_EQ(table_->Classify(1, false, 7, 0), dataplane::kNoVif) << "another port";
  EXPECT_EQ(view(*id).tag_bytes, 4);
  EXPECT_EQ(view(*id).tags[0], 0x81);
  EXPECT_EQ(view(*id).tags[3], 7);
  auto q = vifs_->AddSub("a.8.9", 0, 8, 9, kMac, 0, 1500, {}, {});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(table_->Classify(0, true, 8, 9), *q);
  EXPECT_EQ(table_->Classify(0, true, 8, 10), dataplane::kNoVif);
  EXPECT_EQ(view(*q).tag_bytes, 8);
  EXPECT_EQ(view(*q).tags[0], 0x88);
  EXPECT_EQ(view(*q).tags[1], 0xa8);

  auto dup = vifs_->AddSub("other", 0, 7, 0, kMac, 0, 1500, {}, {});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(vifs_->ByName("a.7"), *id);
  vifs_->Unpublish(*id);
  EXPECT_EQ(table_->Classify(0, false, 7, 0), dataplane::kNoVif);
  vifs_->ReleaseVif(*id);
  EXPECT_FALSE(vifs_->ByName("a.7").has_value());
}

// A sub-interface without settings of its own follows its group; with its own, keeps them
// whatever the group does later; without them again, follows the group at once.
TEST_F(VifsTest, OwnSettingsOutrankTheGroupsWhateverTheOrder) {
  auto plain = vifs_->AddSub("a.1", 0, 1, 0, kMac, 10, 1500, {}, {});
  VifSettings own;
  own.mtu = 1400;
  auto special = vifs_->AddSub("a.2", 0, 2, 0, kMac, 10, 1500, own, {});
  ASSERT_TRUE(plain.ok() && special.ok());
  EXPECT_EQ(table_->Mtu(view(*plain)), 1500u) << "the parent's MTU when nobody sets one";
  EXPECT_EQ(table_->Mtu(view(*special)), 1400u);

  VifSettings group;
  group.mtu = 9000;
  group.up = false;
  ASSERT_TRUE(vifs_->SetGroup(10, group).ok());
  EXPECT_EQ(table_->Mtu(view(*plain)), 9000u);
  EXPECT_FALSE(table_->Up(view(*plain)));
  EXPECT_EQ(table_->Mtu(view(*special)), 1400u) << "its own MTU outranks the group's";
  EXPECT_FALSE(table_->Up(view(*special))) << "but it has no admin state of its own";
  EXPECT_TRUE(table_->Up(view(0))) << "group 0 is not touched";

  ASSERT_TRUE(vifs_->SetOwn(*special, {}).ok());
  EXPECT_EQ(table_->Mtu(view(*special)), 9000u);
  ASSERT_TRUE(vifs_->SetGroup(10, {}).ok());
  EXPECT_EQ(table_->Mtu(view(*plain)), 1500u) << "group setting removed: back to the default";
  EXPECT_TRUE(table_->Up(view(*plain)));
}

TEST_F(VifsTest, MovingToAnotherGroupTakesItsSettings) {
  auto id = vifs_->AddSub("a.1", 0, 1, 0, kMac, 10, 1500, {}, {});
  ASSERT_TRUE(id.ok());
  VifSettings down;
  down.up = false;
  ASSERT_TRUE(vifs_->SetGroup(20, down).ok());
  EXPECT_TRUE(table_->Up(view(*id)));
  ASSERT_TRUE(vifs_->MoveToGroup(*id, 20).ok());
  EXPECT_FALSE(table_->Up(view(*id)));
}

TEST_F(VifsTest, TemplateMembersAreOneBlockComputedNotStored) {
  auto block = vifs_->AddBlock(0, kMac, 1500, 10, VlanTemplate(100, 163));
  ASSERT_TRUE(block.ok()) << block.status();
  const Block* b = *block;
  EXPECT_EQ(b->count, 64u);
  EXPECT_EQ(vifs_->size(), 65u) << "the port and 64 members";
  EXPECT_EQ(vifs_->records().size(), 1u) << "members have no record of their own";
  uint32_t last = b->first + 63;
  EXPECT_EQ(table_->Classify(0, false, 163, 0), last);
  EXPECT_EQ(vifs_->ByName("a.163"), last);
  EXPECT_FALSE(vifs_->ByName("a.164").has_value());
  EXPECT_FALSE(vifs_->ByName("a.0163").has_value()) << "one spelling per member";
  EXPECT_EQ(vifs_->Name(last), "a.163");
  auto info = vifs_->Info(last);
  ASSERT_TRUE(info.has_value());
  ASSERT_EQ(info->addresses.size(), 1u);
  EXPECT_EQ(info->addresses[0].addr, Ip(198, 18, 64, 126));
  EXPECT_EQ(view(last).addr.load(), rte_cpu_to_be_32(Ip(198, 18, 64, 126)));

  VifSettings group;
  group.mtu = 1400;
  ASSERT_TRUE(vifs_->SetGroup(10, group).ok());
  EXPECT_EQ(table_->Mtu(view(b->first)), 1400u);
  EXPECT_EQ(table_->Mtu(view(last)), 1400u) << "one store reached every member";

  uint32_t first = b->first;
  vifs_->UnpublishBlock(*b);
  EXPECT_EQ(table_->Classify(0, false, 100, 0), dataplane::kNoVif);
  vifs_->ReleaseBlock(b);
  EXPECT_EQ(vifs_->size(), 1u);
  auto again = vifs_->AddBlock(0, kMac, 1500, 10, VlanTemplate(100, 163));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->first, first) << "freed ids are reused, so the table stays dense";
}

// Members a template lists keep settings of their own over the group's, set at creation and
// changed in place; the others follow the group; a member leaving the list follows it again.
TEST_F(VifsTest, ListedMembersOutrankTheGroupAndLeaveTheListCleanly) {
  config::TemplateConfig t = VlanTemplate(100, 163);
  config::MemberConfig m;
  m.outer = 101;
  m.mtu = 1300;
  t.members = {m};
  auto block = vifs_->AddBlock(0, kMac, 1500, 10, t);
  ASSERT_TRUE(block.ok()) << block.status();
  uint32_t first = (*block)->first;
  EXPECT_EQ(table_->Mtu(view(first + 1)), 1300u) << "set before the member was published";
  EXPECT_EQ(table_->Mtu(view(first + 2)), 1500u);

  VifSettings group;
  group.mtu = 1400;
  ASSERT_TRUE(vifs_->SetGroup(10, group).ok());
  EXPECT_EQ(table_->Mtu(view(first + 1)), 1300u) << "its own MTU outranks the group's";
  EXPECT_EQ(table_->Mtu(view(first + 2)), 1400u);

  config::MemberConfig down;
  down.outer = 163;
  down.up = false;
  ASSERT_TRUE(vifs_->SetMembers(first, {down}).ok());
  EXPECT_EQ(table_->Mtu(view(first + 1)), 1400u) << "off the list: the group's again";
  EXPECT_FALSE(table_->Up(view(first + 63)));
  EXPECT_TRUE(table_->Up(view(first + 62)));
  EXPECT_EQ(vifs_->blocks().at(first).tmpl.members.size(), 1u);
}

TEST_F(VifsTest, OverlappingTemplateIsRefused) {
  ASSERT_TRUE(vifs_->AddBlock(0, kMac, 1500, 10, VlanTemplate(100, 163)).ok());
  auto clash = vifs_->AddBlock(0, kMac, 1500, 11, VlanTemplate(150, 200));
  EXPECT_EQ(clash.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(clash.status().message().find("tags 150"), std::string::npos) << clash.status();
  EXPECT_EQ(vifs_->size(), 65u) << "nothing of the refused template stays";
}

TEST_F(VifsTest, ImpairmentProfilesAreSharedAndReleased) {
  config::ImpairmentConfig drop;
  drop.mode = config::ImpairMode::kDrop;
  drop.drop_percent = 25;
  drop.seed = 7;
  VifSettings s;
  s.impairment = drop;
  auto x = vifs_->AddSub("a.1", 0, 1, 0, kMac, 0, 1500, s, {});
  auto y = vifs_->AddSub("a.2", 0, 2, 0, kMac, 0, 1500, s, {});
  ASSERT_TRUE(x.ok() && y.ok());
  uint32_t p = table_->Impairment(view(*x));
  EXPECT_NE(p, 0u);
  EXPECT_EQ(table_->Impairment(view(*y)), p) << "the same settings share one profile";
  EXPECT_EQ(table_->profile(p).kind, dataplane::ImpairKind::kDrop);
  EXPECT_EQ(table_->profile(p).threshold, (uint64_t{1} << 32) / 4);
  ASSERT_NE(vifs_->Profile(p), nullptr);
  EXPECT_EQ(vifs_->Profile(p)->seed, 7u);
  ASSERT_TRUE(vifs_->SetOwn(*x, {}).ok());
  EXPECT_EQ(table_->Impairment(view(*x)), 0u);
  EXPECT_NE(vifs_->Profile(p), nullptr) << "still used by a.2";
  ASSERT_TRUE(vifs_->SetOwn(*y, {}).ok());
  EXPECT_EQ(vifs_->Profile(p), nullptr);
}

}  // namespace
}  // namespace vr::control
