#include "intent_journal.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <functional>

#include "codec.h"
#include "sha256.h"

namespace ingest {

namespace {

// "AIJ1", batch number, payload length (both 8 bytes little-endian), and
// the SHA-256 (hex) of the batch number's bytes and the payload.
constexpr std::string_view kMagic = "AIJ1";
constexpr size_t kHashSize = 64;
constexpr size_t kHeaderSize = 4 + 8 + 8 + kHashSize;
// No batch comes near this; a larger length is a torn or garbled header.
constexpr uint64_t kMaxPayload = 1ull << 32;

void PutFixed64(uint64_t v, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t GetFixed64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

std::string FrameHash(const char* batch_bytes, std::string_view payload) {
  Sha256 h;
  h.Update(std::string_view(batch_bytes, 8));
  h.Update(payload);
  return h.FinishHex();
}

Status ReadMark(StateStore* state, uint64_t* mark) {
  std::string value;
  Status s = state->Get(keys::kIntentsClosed, &value);
  if (s.IsNotFound()) {
    *mark = 0;
    return Status::OK();
  }
  if (!s.ok()) return s;
  if (!DecodeMark(value, mark)) return Status::Corruption("state: undecodable intent journal mark");
  return Status::OK();
}

// Calls `open_batch` with the payload of every whole frame above `mark`, and
// sets *last to the highest batch number seen. Frames at or below the mark
// are skipped unread. Reading stops at the first frame that does not check
// out: the tail of a batch whose append never became durable (or, read
// while a pass runs, one being appended), which `warn_torn` reports.
Status ReadFrames(Env* env, const File& file, uint64_t mark, bool warn_torn, uint64_t* last,
                  const std::function<Status(std::string_view payload)>& open_batch) {
  FileStat st;
  Status s = env->Stat(file, &st);
  if (!s.ok()) return s;
  *last = 0;
  uint64_t offset = 0;
  std::string payload;
  while (offset < st.size) {
    char header[kHeaderSize];
    size_t got = 0;
    s = env->ReadAt(file, offset, header, sizeof header, &got);
    if (!s.ok()) return s;
    bool whole = got == sizeof header && std::string_view(header, 4) == kMagic;
    const uint64_t batch = whole ? GetFixed64(header + 4) : 0;
    const uint64_t len = whole ? GetFixed64(header + 12) : 0;
    whole = whole && len <= kMaxPayload && len <= st.size - offset - kHeaderSize;
    if (whole && batch > mark) {
      payload.resize(len);
      s = env->ReadAt(file, offset + kHeaderSize, payload.data(), len, &got);
      if (!s.ok()) return s;
      whole =
          got == len && FrameHash(header + 4, payload) == std::string_view(header + 20, kHashSize);
    }
    if (!whole) {
      if (!warn_torn) break;
      spdlog::warn(
          "{}: ignoring its last {} bytes, which do not form a whole frame (a batch whose "
          "intents never became durable, so none of its files moved)",
          file.path(), st.size - offset);
      break;
    }
    *last = std::max(*last, batch);
    if (batch > mark) {
      s = open_batch(payload);
      if (!s.ok()) return s;
    }
    offset += kHeaderSize + len;
  }
  return Status::OK();
}

// Decodes a frame's payload into intents.
Status DecodeFrame(const File& file, std::string_view payload,
                   std::vector<IntentJournal::OpenIntent>* out) {
  Decoder d(payload);
  uint64_t count = 0;
  bool ok = d.GetVarint(&count);
  std::string bytes;
  for (uint64_t i = 0; ok && i < count; ++i) {
    IntentJournal::OpenIntent o;
    ok = d.GetString(&o.id) && d.GetString(&bytes) && DecodeIntent(bytes, &o.intent);
    if (ok) out->push_back(std::move(o));
  }
  if (!ok || !d.done()) {
    return Status::Corruption(file.path() + ": a frame with a valid checksum does not decode");
  }
  return Status::OK();
}

}  // namespace

Status IntentJournal::Open(const File& state_dir) {
  Status s = ReadMark(state_, &closed_);
  if (!s.ok()) return s;
  const std::string name(kFileName);
  s = env_->OpenAt(state_dir, name, O_RDWR | O_APPEND, 0, &file_);
  if (s.IsNotFound()) {
    s = env_->OpenAt(state_dir, name, O_RDWR | O_APPEND | O_CREAT | O_EXCL, 0600, &file_);
    // Its name must be durable before any frame in it is relied on.
    if (s.ok()) s = env_->Sync(state_dir);
  }
  FileStat st;
  if (s.ok()) s = env_->Stat(file_, &st);
  if (!s.ok()) return s;
  bytes_ = st.size;
  dev_ = st.dev;
  appended_ = closed_;
  return Status::OK();
}

Status IntentJournal::ReadOpen(std::vector<OpenIntent>* open, uint64_t* last_batch) {
  return ReadFrames(env_, file_, closed_, /*warn_torn=*/true, last_batch,
                    [&](std::string_view payload) { return DecodeFrame(file_, payload, open); });
}

Status IntentJournal::MoveOpenToState(size_t* moved) {
  std::vector<OpenIntent> open;
  uint64_t last = 0;
  Status s = ReadOpen(&open, &last);
  if (!s.ok()) return s;
  *moved = open.size();
  if (last > closed_) {
    std::vector<StateWrite> writes;
    writes.reserve(open.size() + 1);
    for (const OpenIntent& o : open) writes.push_back({keys::Intent(o.id), EncodeIntent(o.intent)});
    writes.push_back({std::string(keys::kIntentsClosed), EncodeMark(last)});
    s = state_->Apply(writes, /*sync=*/true);
    if (!s.ok()) return s;
    closed_ = last;
  }
  appended_ = closed_;
  recovered_ = true;
  return ResetIfClosed(1);
}

Status IntentJournal::Append(const std::vector<std::pair<std::string_view, const Intent*>>& intents,
                             bool sync, uint64_t* batch) {
  if (!recovered_) return Status::InvalidArgument(file_.path() + ": appended before recovery");
  // The frame is built in place behind room for its header, in a buffer
  // reserved once at about its final size: growing it by doubling would
  // hold up to three times a batch's intents at once.
  size_t bound = kHeaderSize + 10;
  for (const auto& [id, in] : intents) bound += 2 * 10 + id.size() + EncodedIntentBound(*in);
  std::string buf = std::move(frame_);
  buf.reserve(bound);
  buf.assign(kHeaderSize, '\0');
  Encoder e(std::move(buf));
  e.PutVarint(intents.size());
  for (const auto& [id, intent] : intents) {
    e.PutString(id);
    e.PutString(EncodeIntent(*intent));
  }
  frame_ = e.Release();
  const std::string_view payload = std::string_view(frame_).substr(kHeaderSize);
  const uint64_t number = appended_ + 1;
  std::memcpy(frame_.data(), kMagic.data(), kMagic.size());
  PutFixed64(number, frame_.data() + 4);
  PutFixed64(payload.size(), frame_.data() + 12);
  const std::string hash = FrameHash(frame_.data() + 4, payload);
  std::memcpy(frame_.data() + 20, hash.data(), kHashSize);
  Status s = env_->Write(file_, frame_);
  if (s.ok() && sync) s = env_->DataSync(file_);
  std::lock_guard<std::mutex> lock(mu_);
  // Even a failed append may have left bytes behind.
  bytes_ += frame_.size();
  if (!s.ok()) return s;
  appended_ = number;
  *batch = number;
  return Status::OK();
}

void IntentJournal::AddCloseWrite(uint64_t batch, std::vector<StateWrite>* writes) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (batch == closed_ + 1)
    writes->push_back({std::string(keys::kIntentsClosed), EncodeMark(batch)});
}

void IntentJournal::Closed(uint64_t batch) {
  std::lock_guard<std::mutex> lock(mu_);
  if (batch == closed_ + 1) closed_ = batch;
}

bool IntentJournal::AllClosed(uint64_t min_bytes) const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_ == appended_ && bytes_ >= min_bytes;
}

uint64_t IntentJournal::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

Status IntentJournal::ResetIfClosed(uint64_t min_bytes) {
  if (!AllClosed(min_bytes)) return Status::OK();
  // Every frame is at or below the durable mark, so it does not matter
  // whether the truncation itself survives a crash.
  Status s = env_->Truncate(file_, 0);
  if (!s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  bytes_ = 0;
  return Status::OK();
}

Status CountOpenIntents(Env* env, const File& state_dir, StateStore* state, uint64_t* count) {
  *count = 0;
  uint64_t mark = 0;
  Status s = ReadMark(state, &mark);
  if (!s.ok()) return s;
  File file;
  s = env->OpenAt(state_dir, std::string(IntentJournal::kFileName), O_RDONLY, 0, &file);
  if (s.IsNotFound()) return Status::OK();
  if (!s.ok()) return s;
  uint64_t last = 0;
  return ReadFrames(env, file, mark, /*warn_torn=*/false, &last, [&](std::string_view payload) {
    std::vector<IntentJournal::OpenIntent> open;
    Status d = DecodeFrame(file, payload, &open);
    *count += open.size();
    return d;
  });
}

}  // namespace ingest
