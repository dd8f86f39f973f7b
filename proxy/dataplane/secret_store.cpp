#include "proxy/dataplane/secret_store.h"

namespace mesh::proxy::dataplane {

void SecretStore::set(std::string name, TlsSecret secret) {
  auto value = std::make_shared<const TlsSecret>(std::move(secret));
  std::lock_guard lock(mu_);
  secrets_[std::move(name)] = std::move(value);
  ++version_;
}

void SecretStore::erase(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = secrets_.find(name);
  if (it == secrets_.end()) return;
  secrets_.erase(it);
  ++version_;
}

std::shared_ptr<const TlsSecret> SecretStore::get(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = secrets_.find(name);
  return it == secrets_.end() ? nullptr : it->second;
}

uint64_t SecretStore::version() const {
  std::lock_guard lock(mu_);
  return version_;
}

}  // namespace mesh::proxy::dataplane
