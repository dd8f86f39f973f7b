#include "controlplane/debug/push_history.h"

namespace mesh::debug {

PushHistory::TypeStats& PushHistory::statsFor(std::string_view typeUrl, const std::string** key) {
  auto it = types_.find(typeUrl);
  if (it == types_.end()) it = types_.emplace(std::string(typeUrl), TypeStats{}).first;
  if (key) *key = &it->first;
  return it->second;
}

void PushHistory::recordPush(std::string_view typeUrl, size_t bytes, double seconds) {
  auto now = Clock::now();
  std::lock_guard lock(mu_);
  const std::string* key = nullptr;
  TypeStats& s = statsFor(typeUrl, &key);
  ++s.pushes;
  s.bytes += bytes;
  s.lastPush = now;
  pushes_[pushCount_++ % kCapacity] = PushSlot{now, key, bytes, seconds};
}

void PushHistory::recordError(ErrorKind kind, std::string_view proxyId, std::string_view typeUrl,
                              std::string_view message) {
  auto now = Clock::now();
  std::lock_guard lock(mu_);
  TypeStats& s = statsFor(typeUrl, nullptr);
  if (kind == ErrorKind::Nack) ++s.nacks;
  else ++s.errors;
  errors_[errorCount_++ % kCapacity] =
      Error{now, kind, std::string(proxyId), std::string(typeUrl), std::string(message)};
}

PushHistory::View PushHistory::view() const {
  View v;
  std::lock_guard lock(mu_);
  v.types = types_;
  for (size_t i = 0; i < std::min(pushCount_, kCapacity); ++i) {
    const PushSlot& p = pushes_[(pushCount_ - 1 - i) % kCapacity];
    v.pushes.push_back(Push{p.time, *p.typeUrl, p.bytes, p.seconds});
  }
  for (size_t i = 0; i < std::min(errorCount_, kCapacity); ++i)
    v.errors.push_back(errors_[(errorCount_ - 1 - i) % kCapacity]);
  return v;
}

}  // namespace mesh::debug
