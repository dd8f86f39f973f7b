#include "controlplane/server/mesh_config_source.h"

#include <fmt/format.h>

namespace mesh::server {

Result<std::unique_ptr<MeshConfigSource>> MeshConfigSource::fromFile(std::string path, MeshConfigSourceHooks hooks,
                                                                     std::chrono::milliseconds poll) {
  auto content = model::readMeshConfigFile(path);
  if (!content) return fail(content.error().code, content.error().message);
  auto parsed = model::parseMeshConfig(path, *content);
  if (!parsed) return fail(parsed.error().code, parsed.error().message);
  std::unique_ptr<MeshConfigSource> source(new MeshConfigSource("file " + path, std::move(hooks)));
  source->current_ = std::move(*parsed);
  source->poller_ = std::thread([s = source.get(), path, c = std::move(*content), poll] { s->pollFile(path, c, poll); });
  return source;
}

Result<std::unique_ptr<MeshConfigSource>> MeshConfigSource::fromConfigMap(core::ConfigStore& store, core::ResourceKey key,
                                                                          MeshConfigSourceHooks hooks) {
  std::unique_ptr<MeshConfigSource> source(
      new MeshConfigSource(fmt::format("ConfigMap {}/{}", key.namespace_, key.name), std::move(hooks)));
  // Watch first, then read: a change between the two is seen by the watch.
  core::WatchOptions options;
  options.filter.kind = core::GroupKind{key.group, key.kind};
  options.filter.namespace_ = key.namespace_;
  auto sub = store.watch(
      [s = source.get(), key](const core::WatchEvent& e) {
        if (e.item.key() != key) return;
        // Istio falls back to the defaults when the ConfigMap goes away.
        s->offer(e.type == core::EventType::Deleted ? Result<std::shared_ptr<const model::MeshConfig>>(
                                                          model::defaultMeshConfig())
                                                    : model::meshConfigFromConfigMap(e.item.resource));
      },
      options);
  if (!sub) return fail(sub.error().code, sub.error().message, sub.error().hint);
  auto stored = store.get(key);
  std::shared_ptr<const model::MeshConfig> initial = model::defaultMeshConfig();
  if (stored) {
    auto parsed = model::meshConfigFromConfigMap(stored->resource);
    if (!parsed) return fail(parsed.error().code, parsed.error().message);
    initial = std::move(*parsed);
  } else if (stored.error().code != ErrorCode::NotFound) {
    return fail(stored.error().code, stored.error().message, stored.error().hint);
  }
  {
    std::lock_guard lock(source->mu_);
    if (!source->current_) source->current_ = std::move(initial);  // unless the watch was first
  }
  source->subscription_ = std::move(*sub);
  return source;
}

MeshConfigSource::~MeshConfigSource() {
  subscription_.reset();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stopCv_.notify_all();
  if (poller_.joinable()) poller_.join();
}

std::shared_ptr<const model::MeshConfig> MeshConfigSource::current() const {
  std::lock_guard lock(mu_);
  return current_ ? current_ : model::defaultMeshConfig();
}

void MeshConfigSource::offer(Result<std::shared_ptr<const model::MeshConfig>> next) {
  {
    std::lock_guard lock(mu_);
    if (!next) {
      if (next.error().message == lastRejection_) return;  // reported already
      lastRejection_ = next.error().message;
    } else {
      current_ = std::move(*next);
      lastRejection_.clear();
    }
  }
  if (!next && hooks_.rejected) hooks_.rejected(next.error());
  if (next && hooks_.changed) hooks_.changed();
}

void MeshConfigSource::pollFile(std::string path, std::string lastContent, std::chrono::milliseconds poll) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (stopCv_.wait_for(lock, poll, [&] { return stopping_; })) return;
    lock.unlock();
    auto content = model::readMeshConfigFile(path);
    if (!content) {
      offer(fail(content.error().code, content.error().message));
    } else if (*content != lastContent) {
      lastContent = std::move(*content);
      offer(model::parseMeshConfig(path, lastContent));
    }
    lock.lock();
  }
}

}  // namespace mesh::server
