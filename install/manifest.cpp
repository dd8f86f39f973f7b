#include "install/manifest.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "install/render.h"
#include "install/yaml_emit.h"

namespace mesh::install {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kComponents[] = {kBase, kPilot, kIngressGateways, kEgressGateways};

// Apply order within a component: what others refer to comes first.
int kindRank(const std::string& kind) {
  static constexpr std::string_view kOrder[] = {"CustomResourceDefinition",
                                                "Namespace",
                                                "ServiceAccount",
                                                "ClusterRole",
                                                "ClusterRoleBinding",
                                                "Role",
                                                "RoleBinding",
                                                "ConfigMap",
                                                "Secret",
                                                "Deployment",
                                                "Service",
                                                "PodDisruptionBudget",
                                                "HorizontalPodAutoscaler"};
  for (size_t i = 0; i < std::size(kOrder); ++i)
    if (kOrder[i] == kind) return static_cast<int>(i);
  return static_cast<int>(std::size(kOrder));
}

std::string metaField(const Object& o, const char* key) {
  const auto& meta = o["metadata"];
  return meta.contains(key) ? meta[key].get<std::string>() : std::string();
}

std::string identity(const Object& o) {
  std::string ns = metaField(o, "namespace");
  return fmt::format("{} {}{}{}", o["kind"].get<std::string>(), ns, ns.empty() ? "" : "/", metaField(o, "name"));
}

void sortObjects(std::vector<Object>& objects) {
  std::stable_sort(objects.begin(), objects.end(), [](const Object& a, const Object& b) {
    auto key = [](const Object& o) {
      return std::tuple(kindRank(o["kind"].get<std::string>()), metaField(o, "namespace"), metaField(o, "name"));
    };
    return key(a) < key(b);
  });
}

// Writes `text` to a new temporary file beside `path`; returns its name.
Result<std::string> writeTemp(const fs::path& path, const std::string& text) {
  std::string tmp = (path.parent_path() / fmt::format(".{}.tmp-{}", path.filename().string(), ::getpid())).string();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(ErrorCode::Io, fmt::format("{}: {}", tmp, std::strerror(errno)));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(ErrorCode::Io, fmt::format("{}: {}", tmp, std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return fail(ErrorCode::Io, fmt::format("{}: {}", tmp, std::strerror(err)));
  }
  return tmp;
}

}  // namespace

Result<std::vector<ComponentManifest>> renderManifests(const nlohmann::json& iop) {
  auto plan = planInstall(iop);
  if (!plan) return Failure(plan.error());
  std::map<std::string_view, std::vector<Object>> byComponent;
  std::map<std::string_view, std::vector<std::string>> namespaces;
  if (plan->base) {
    byComponent[kBase] = renderBase(*plan);
    namespaces[kBase].push_back(plan->baseNs);
  }
  if (plan->meshd) {
    byComponent[kPilot] = renderMeshd(*plan, *plan->meshd);
    namespaces[kPilot].push_back(plan->meshd->ns);
  }
  for (const auto& g : plan->gateways) {
    for (auto& o : renderGateway(*plan, g)) byComponent[g.component].push_back(std::move(o));
    namespaces[g.component].push_back(g.ns);
  }
  // Each namespace belongs to the first component that needs it, so it is applied before
  // anything in it and uninstalled with that component.
  std::set<std::string> placed;
  for (std::string_view c : kComponents)
    for (const auto& ns : namespaces[c])
      if (placed.insert(ns).second) byComponent[c].push_back(namespaceObject(*plan, ns, c));

  std::vector<ComponentManifest> out;
  std::map<std::string, std::string_view> seen;  // identity → component
  for (std::string_view c : kComponents) {
    auto it = byComponent.find(c);
    if (it == byComponent.end() || it->second.empty()) continue;
    for (const auto& o : it->second) {
      auto [where, added] = seen.emplace(identity(o), c);
      if (!added)
        return fail(ErrorCode::InvalidInput,
                    fmt::format("{} would be rendered twice (by {} and {})", identity(o), where->second, c),
                    "give the gateway a name or namespace no other component uses");
    }
    ComponentManifest m{std::string(c), std::move(it->second)};
    sortObjects(m.objects);
    out.push_back(std::move(m));
  }
  return out;
}

std::string componentText(const ComponentManifest& component) { return toYamlStream(component.objects); }

std::string manifestText(const std::vector<ComponentManifest>& components) {
  std::string text;
  for (const auto& c : components) {
    if (!text.empty()) text += "---\n";
    text += componentText(c);
  }
  return text;
}

Result<std::vector<std::string>> writeManifestDir(const std::string& dir,
                                                  const std::vector<ComponentManifest>& components) {
  std::error_code ec;
  std::vector<std::pair<std::string, std::string>> staged;  // temp → final
  auto abandon = [&](Error e) -> Result<std::vector<std::string>> {
    for (const auto& [tmp, final] : staged) ::unlink(tmp.c_str());
    return Failure(std::move(e));
  };
  for (const auto& c : components) {
    fs::path sub = fs::path(dir) / c.component;
    fs::create_directories(sub, ec);
    if (ec) return abandon(Error{ErrorCode::Io, fmt::format("{}: {}", sub.string(), ec.message()), {}});
    fs::path file = sub / (c.component + ".yaml");
    auto tmp = writeTemp(file, componentText(c));
    if (!tmp) return abandon(tmp.error());
    staged.emplace_back(*tmp, file.string());
  }
  std::vector<std::string> written;
  for (const auto& [tmp, final] : staged) {
    if (::rename(tmp.c_str(), final.c_str()) != 0)
      return abandon(Error{ErrorCode::Io, fmt::format("{}: {}", final, std::strerror(errno)), {}});
    written.push_back(final);
  }
  for (std::string_view c : kComponents) {
    bool rendered = std::any_of(components.begin(), components.end(), [&](const auto& m) { return m.component == c; });
    if (rendered) continue;
    fs::path sub = fs::path(dir) / std::string(c);
    fs::remove(sub / (std::string(c) + ".yaml"), ec);
    if (fs::is_empty(sub, ec)) fs::remove(sub, ec);
  }
  return written;
}

}  // namespace mesh::install
