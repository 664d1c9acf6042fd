#include "records.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "codec.h"

namespace ingest {
namespace {

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();

const std::string kSha(64, 'a');
// Not UTF-8, with a NUL, a newline and a backslash.
const std::string kBinaryName = std::string("bad\xff\xfe\0name\n\\", 12);

ContentRecord SampleContent() {
  ContentRecord r;
  r.path = "/warehouse/ingest_date=2024-01-02/" + kBinaryName;
  r.source = "/staging/" + kBinaryName;
  r.manifest = "/manifests/2024/01/02/03/manifest.jsonl";
  r.size = kU64Max;
  r.ingested_at_ns = kI64Min;
  return r;
}

FailureRecord SampleFailure() {
  FailureRecord r;
  r.path = "/staging/" + kBinaryName;
  r.error = "checksum mismatch for /staging/x: x.ok says " + kSha + ", content is " + kSha;
  r.at_ns = kI64Min;
  r.attempts = kU64Max;
  r.dev = 7;
  r.ino = kU64Max;
  r.code = 3;
  r.err = 28;
  return r;
}

Intent SampleIntent() {
  Intent i;
  i.action = IntentAction::kQuarantine;
  i.sha256 = kSha;
  i.src_dir = "/staging";
  i.src_name = kBinaryName;
  i.src_dev = 1;
  i.src_ino = kU64Max;
  i.size = 12345;
  i.mtime_ns = -1;
  i.tmp_dir = "/warehouse/.atomic-ingest-tmp";
  i.tmp_name = ".tmp-\x80";
  i.moved_dev = 2;
  i.moved_ino = 3;
  i.dest_dir = "/warehouse/_duplicates/ingest_date=2024-01-02";
  i.dest_name = "name.aaaaaaaaaaaa.csv";
  i.manifest_path = "/manifests/2024/01/02/03/manifest.jsonl";
  i.manifest_line = "{\"path\":\"x\"}\n";
  i.sidecar_name = "name.ok";
  return i;
}

HookRecord SampleHook() {
  HookRecord h;
  h.path = "/warehouse/ingest_date=2024-01-02/" + kBinaryName;
  h.sha256 = kSha;
  h.source = "/staging/" + kBinaryName;
  h.manifest = "/manifests/2024/01/02/03/manifest.jsonl";
  h.manifest_line = "{\"path\":\"x\"}\n";
  h.size = kU64Max;
  h.committed_at_ns = kI64Min;
  h.attempts = kU64Max;
  h.last_error = "'hook' exit status 3";
  h.last_attempt_ns = kI64Max;
  return h;
}

void ExpectSameHook(const HookRecord& a, const HookRecord& b) {
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.manifest, b.manifest);
  EXPECT_EQ(a.manifest_line, b.manifest_line);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.committed_at_ns, b.committed_at_ns);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.last_error, b.last_error);
  EXPECT_EQ(a.last_attempt_ns, b.last_attempt_ns);
}

void ExpectSameIntent(const Intent& a, const Intent& b) {
  EXPECT_EQ(a.action, b.action);
  EXPECT_EQ(a.sha256, b.sha256);
  EXPECT_EQ(a.src_dir, b.src_dir);
  EXPECT_EQ(a.src_name, b.src_name);
  EXPECT_EQ(a.src_dev, b.src_dev);
  EXPECT_EQ(a.src_ino, b.src_ino);
  EXPECT_EQ(a.size, b.size);
  EXPECT_EQ(a.mtime_ns, b.mtime_ns);
  EXPECT_EQ(a.tmp_dir, b.tmp_dir);
  EXPECT_EQ(a.tmp_name, b.tmp_name);
  EXPECT_EQ(a.moved_dev, b.moved_dev);
  EXPECT_EQ(a.moved_ino, b.moved_ino);
  EXPECT_EQ(a.dest_dir, b.dest_dir);
  EXPECT_EQ(a.dest_name, b.dest_name);
  EXPECT_EQ(a.manifest_path, b.manifest_path);
  EXPECT_EQ(a.manifest_line, b.manifest_line);
  EXPECT_EQ(a.sidecar_name, b.sidecar_name);
}

TEST(RecordsTest, KeysHaveTheirPrefixes) {
  EXPECT_EQ(keys::Content(kSha), "c/" + kSha);
  EXPECT_EQ(keys::Intent("42"), "i/42");
  EXPECT_EQ(keys::Hook("42"), "h/42");
  EXPECT_EQ(keys::SnapshotDir(9), "s/9/");
  EXPECT_EQ(keys::Snapshot(9, 0, "a.csv"), std::string("s/9/\x80\0\0\0\0\0\0\0a.csv", 17));
  EXPECT_EQ(keys::Cursor(kU64Max), "m/cursor/18446744073709551615");
  EXPECT_EQ(keys::kLastPass, "m/last_pass");
  EXPECT_EQ(keys::FailureDir(9), "f/9/");
  EXPECT_EQ(keys::Failure(9, "a.csv"), "f/9/a.csv");
}

TEST(RecordsTest, FailureKeyStartsWithItsDirectoryPrefix) {
  const std::string key = keys::Failure(2, kBinaryName);
  const std::string dir = keys::FailureDir(2);
  ASSERT_EQ(key.substr(0, dir.size()), dir);
  EXPECT_EQ(key.substr(dir.size()), kBinaryName);
  EXPECT_NE(keys::Failure(23, "x").substr(0, dir.size()), dir);
  // Failure records sort apart from every other kind.
  EXPECT_EQ(key.substr(0, 2), keys::kFailure);
}

TEST(RecordsTest, SnapshotKeyStartsWithItsDirectoryPrefix) {
  const std::string key = keys::Snapshot(2, 77, kBinaryName);
  const std::string dir = keys::SnapshotDir(2);
  ASSERT_EQ(key.substr(0, dir.size()), dir);
  EXPECT_EQ(key.substr(dir.size() + 8), kBinaryName);
  // The trailing '/' keeps directory 1:2 from matching directory 1:23.
  EXPECT_NE(keys::Snapshot(23, 0, "x").substr(0, dir.size()), dir);
}

TEST(RecordsTest, SnapshotKeysSortInListingOrder) {
  // Listing offsets, negative ones included, sort as numbers; the name
  // only breaks ties.
  const int64_t offsets[] = {INT64_MIN, -5, -1, 0, 1, 255, 256, INT64_MAX};
  for (size_t i = 1; i < std::size(offsets); ++i) {
    EXPECT_LT(keys::Snapshot(2, offsets[i - 1], "zzz"), keys::Snapshot(2, offsets[i], "a"))
        << offsets[i - 1] << " vs " << offsets[i];
  }
  EXPECT_LT(keys::Snapshot(2, 9, "a"), keys::Snapshot(2, 9, "b"));
}

TEST(RecordsTest, ContentRecordRoundTripsAllFields) {
  const ContentRecord in = SampleContent();
  ContentRecord out;
  ASSERT_TRUE(DecodeContentRecord(EncodeContentRecord(in), &out));
  EXPECT_EQ(out.path, in.path);
  EXPECT_EQ(out.source, in.source);
  EXPECT_EQ(out.manifest, in.manifest);
  EXPECT_EQ(out.size, in.size);
  EXPECT_EQ(out.ingested_at_ns, in.ingested_at_ns);
}

TEST(RecordsTest, SnapshotRoundTripsAllFields) {
  const Snapshot in{kU64Max, 0, 1ull << 40, kI64Min, kI64Max, -5, kSha};
  Snapshot out;
  ASSERT_TRUE(DecodeSnapshot(EncodeSnapshot(in), &out));
  EXPECT_EQ(out.kept_sha256, in.kept_sha256);
  EXPECT_EQ(out.dev, in.dev);
  EXPECT_EQ(out.ino, in.ino);
  EXPECT_EQ(out.size, in.size);
  EXPECT_EQ(out.mtime_ns, in.mtime_ns);
  EXPECT_EQ(out.ctime_ns, in.ctime_ns);
  EXPECT_EQ(out.first_seen_ns, in.first_seen_ns);
}

TEST(RecordsTest, FailureRecordRoundTripsAllFields) {
  const FailureRecord in = SampleFailure();
  FailureRecord out;
  ASSERT_TRUE(DecodeFailureRecord(EncodeFailureRecord(in), &out));
  EXPECT_EQ(out.path, in.path);
  EXPECT_EQ(out.error, in.error);
  EXPECT_EQ(out.at_ns, in.at_ns);
  EXPECT_EQ(out.attempts, in.attempts);
  EXPECT_EQ(out.dev, in.dev);
  EXPECT_EQ(out.ino, in.ino);
  EXPECT_EQ(out.code, in.code);
  EXPECT_EQ(out.err, in.err);
}

TEST(RecordsTest, FailureRecordWithEmptyFieldsRoundTrips) {
  const FailureRecord in;
  FailureRecord out = SampleFailure();
  ASSERT_TRUE(DecodeFailureRecord(EncodeFailureRecord(in), &out));
  EXPECT_EQ(out.path, "");
  EXPECT_EQ(out.error, "");
  EXPECT_EQ(out.at_ns, 0);
  EXPECT_EQ(out.attempts, 0u);
  EXPECT_EQ(out.dev, 0u);
  EXPECT_EQ(out.ino, 0u);
  EXPECT_EQ(out.code, 0u);
  EXPECT_EQ(out.err, 0u);
}

TEST(RecordsTest, IntentRoundTripsAllFieldsAndActions) {
  for (IntentAction action :
       {IntentAction::kIngest, IntentAction::kQuarantine, IntentAction::kDelete}) {
    Intent in = SampleIntent();
    in.action = action;
    Intent out;
    ASSERT_TRUE(DecodeIntent(EncodeIntent(in), &out));
    ExpectSameIntent(out, in);
    EXPECT_TRUE(out.cross_fs());
  }
}

TEST(RecordsTest, HookRecordRoundTripsAllFields) {
  const HookRecord in = SampleHook();
  HookRecord out;
  ASSERT_TRUE(DecodeHookRecord(EncodeHookRecord(in), &out));
  ExpectSameHook(out, in);
}

TEST(RecordsTest, HookRecordWithEmptyFieldsRoundTrips) {
  const HookRecord in;
  HookRecord out = SampleHook();
  ASSERT_TRUE(DecodeHookRecord(EncodeHookRecord(in), &out));
  ExpectSameHook(out, in);
}

TEST(RecordsTest, HookKeysSortInCommitOrder) {
  // Hook keys carry the intent id: commit time in 16 hex digits, then the
  // position in the plan.
  EXPECT_LT(keys::Hook("0000000000000009-000001"), keys::Hook("000000000000000a-000000"));
  EXPECT_LT(keys::Hook("000000000000000a-000000"), keys::Hook("000000000000000a-000001"));
}

TEST(RecordsTest, IntentWithEmptyFieldsRoundTrips) {
  Intent in;
  in.action = IntentAction::kDelete;
  Intent out = SampleIntent();
  ASSERT_TRUE(DecodeIntent(EncodeIntent(in), &out));
  ExpectSameIntent(out, in);
  EXPECT_FALSE(out.cross_fs());
}

TEST(RecordsTest, EncodedIntentBoundCoversTheEncoding) {
  Intent widest = SampleIntent();
  widest.src_dev = widest.src_ino = widest.size = widest.moved_dev = widest.moved_ino = ~0ull;
  widest.mtime_ns = std::numeric_limits<int64_t>::min();
  for (const Intent& in : {Intent(), SampleIntent(), widest}) {
    EXPECT_GE(EncodedIntentBound(in), EncodeIntent(in).size());
  }
}

// Every strict prefix of an encoding is rejected; so is one extra byte.
template <typename T>
void ExpectPrefixesAndTrailingBytesRejected(const std::string& encoded,
                                            bool (*decode)(std::string_view, T*)) {
  for (size_t n = 0; n < encoded.size(); ++n) {
    T out;
    EXPECT_FALSE(decode(std::string_view(encoded).substr(0, n), &out))
        << "prefix of " << n << " of " << encoded.size() << " bytes";
  }
  T out;
  EXPECT_FALSE(decode(encoded + '\0', &out));
  EXPECT_FALSE(decode(encoded + "x", &out));
}

TEST(RecordsTest, ContentRecordRejectsTruncationAndTrailingBytes) {
  ExpectPrefixesAndTrailingBytesRejected<ContentRecord>(EncodeContentRecord(SampleContent()),
                                                        &DecodeContentRecord);
}

TEST(RecordsTest, SnapshotRejectsTruncationAndTrailingBytes) {
  ExpectPrefixesAndTrailingBytesRejected<Snapshot>(
      EncodeSnapshot(Snapshot{1, 2, 3, kI64Min, 5, 6, kSha}), &DecodeSnapshot);
}

TEST(RecordsTest, FailureRecordRejectsTruncationAndTrailingBytes) {
  ExpectPrefixesAndTrailingBytesRejected<FailureRecord>(EncodeFailureRecord(SampleFailure()),
                                                        &DecodeFailureRecord);
}

TEST(RecordsTest, IntentRejectsTruncationAndTrailingBytes) {
  ExpectPrefixesAndTrailingBytesRejected<Intent>(EncodeIntent(SampleIntent()), &DecodeIntent);
}

TEST(RecordsTest, HookRecordRejectsTruncationAndTrailingBytes) {
  ExpectPrefixesAndTrailingBytesRejected<HookRecord>(EncodeHookRecord(SampleHook()),
                                                     &DecodeHookRecord);
}

TEST(RecordsTest, WrongVersionIsRejected) {
  for (uint64_t version : {uint64_t{0}, uint64_t{2}, uint64_t{255}}) {
    std::string content = EncodeContentRecord(SampleContent());
    std::string snapshot = EncodeSnapshot(Snapshot{1, 2, 3, 4, 5, 6, ""});
    std::string intent = EncodeIntent(SampleIntent());
    std::string hook = EncodeHookRecord(SampleHook());
    std::string failure = EncodeFailureRecord(SampleFailure());
    Encoder v;
    v.PutVarint(version);
    // Version 1 is one byte; replace it with the other version.
    content = v.data() + content.substr(1);
    snapshot = v.data() + snapshot.substr(1);
    intent = v.data() + intent.substr(1);
    hook = v.data() + hook.substr(1);
    failure = v.data() + failure.substr(1);
    ContentRecord c;
    Snapshot s;
    Intent i;
    HookRecord h;
    EXPECT_FALSE(DecodeContentRecord(content, &c)) << version;
    EXPECT_FALSE(DecodeSnapshot(snapshot, &s)) << version;
    EXPECT_FALSE(DecodeIntent(intent, &i)) << version;
    EXPECT_FALSE(DecodeHookRecord(hook, &h)) << version;
    FailureRecord f;
    EXPECT_FALSE(DecodeFailureRecord(failure, &f)) << version;
  }
}

TEST(RecordsTest, EncodingStartsWithVersionOne) {
  EXPECT_EQ(EncodeContentRecord(SampleContent())[0], '\x01');
  EXPECT_EQ(EncodeSnapshot(Snapshot{})[0], '\x01');
  EXPECT_EQ(EncodeIntent(Intent{})[0], '\x01');
  EXPECT_EQ(EncodeHookRecord(HookRecord{})[0], '\x01');
  EXPECT_EQ(EncodeFailureRecord(FailureRecord{})[0], '\x01');
}

TEST(RecordsTest, IntentWithUnknownActionIsRejected) {
  const std::string good = EncodeIntent(SampleIntent());
  // Byte 0 is the version, byte 1 the action.
  ASSERT_EQ(good[1], static_cast<char>(IntentAction::kQuarantine));
  for (char action : {'\0', '\x04', '\x7f'}) {
    std::string bad = good;
    bad[1] = action;
    Intent out;
    EXPECT_FALSE(DecodeIntent(bad, &out)) << static_cast<int>(action);
  }
}

TEST(RecordsTest, OneRecordTypeDoesNotDecodeAsAnother) {
  // A content record starts with strings; as a snapshot its numbers and
  // trailing string do not line up.
  Snapshot s;
  EXPECT_FALSE(DecodeSnapshot(EncodeContentRecord(SampleContent()), &s));
  ContentRecord c;
  EXPECT_FALSE(DecodeContentRecord(EncodeSnapshot(Snapshot{1, 2, 3, 4, 5, 6, kSha}), &c));
  // A hook record begins like a content record (strings) but is longer.
  HookRecord h;
  EXPECT_FALSE(DecodeHookRecord(EncodeContentRecord(SampleContent()), &h));
  EXPECT_FALSE(DecodeContentRecord(EncodeHookRecord(SampleHook()), &c));
}

}  // namespace
}  // namespace ingest
