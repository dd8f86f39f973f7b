#include "cli/cluster_install.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>
#include <thread>
#include <variant>

#include "cli/cluster_verify.h"
#include "cli/console.h"
#include "cli/exit_codes.h"
#include "core/version.h"

namespace mesh::cli {
namespace {

namespace kube = backends::kube;
using Clock = std::chrono::steady_clock;

std::string seconds(Clock::duration d) { return fmt::format("{:.1f}s", std::chrono::duration<double>(d).count()); }

// "22 CustomResourceDefinitions, 1 Namespace": the object count by kind, in manifest order.
std::string kindCounts(const install::ComponentManifest& c) {
  std::vector<std::pair<std::string, size_t>> counts;
  for (const auto& o : c.objects) {
    std::string kind = o.value("kind", "");
    auto it = std::ranges::find_if(counts, [&](const auto& p) { return p.first == kind; });
    if (it == counts.end()) counts.emplace_back(kind, 1);
    else ++it->second;
  }
  std::vector<std::string> parts;
  for (const auto& [kind, n] : counts) parts.push_back(fmt::format("{} {}{}", n, kind, n == 1 ? "" : "s"));
  return fmt::format("{}", fmt::join(parts, ", "));
}

void printPlan(kube::KubeClient& client, const RenderedManifest& m) {
  const auto& config = client.rest().config();
  fmt::print("Cluster: {}\n", config.server);
  if (!config.contextName.empty()) fmt::print("  context  {}\n", config.contextName);
  fmt::print("  from     {}\n", config.source);
  fmt::print("The {} profile, applied in this order (server-side apply, field manager \"meshctl\"):\n", m.profile);
  size_t width = 0;
  for (const auto& c : m.components) width = std::max(width, componentTitle(c.component).size());
  for (const auto& c : m.components)
    fmt::print("  {:<{}}  {} object{}: {}\n", componentTitle(c.component), width, c.objects.size(),
               c.objects.size() == 1 ? "" : "s", kindCounts(c));
}

// A step failed: what to print under the ✘.
struct Failed {
  std::string what;
  std::vector<std::string> hints;
};

class ClusterInstaller {
 public:
  ClusterInstaller(kube::KubeClient& client, const ClusterInstallOptions& options, StatusPrinter& out)
      : client_(client), options_(options), out_(out) {}

  // Applies and waits for one component; whether anything changed, or why it failed.
  std::variant<bool, Failed> install(const install::ComponentManifest& c) {
    const std::string title = componentTitle(c.component);
    bool changed = false;
    std::vector<nlohmann::json> waitFor;
    for (const auto& rendered : c.objects) {
      nlohmann::json object = plainJson(rendered);
      out_.spin(fmt::format("{}: applying {}", title, objectTitle(object)));
      auto applied = apply(object);
      if (auto* f = std::get_if<Failed>(&applied)) return std::move(*f);
      changed = changed || std::get<bool>(applied);
      if (hasReadiness(object)) waitFor.push_back(std::move(object));
    }
    const auto deadline = Clock::now() + options_.readinessTimeout;
    for (const auto& object : waitFor)
      if (auto f = waitReady(title, object, deadline)) return std::move(*f);
    return changed;
  }

 private:
  // True when the object was created or changed.
  std::variant<bool, Failed> apply(const nlohmann::json& object) {
    auto resource = resourceFor(client_, object);
    if (!resource) return failed(object, resource.error());
    const std::string ns = kube::metadataString(object, "namespace");
    const std::string name = kube::metadataString(object, "name");
    std::string before;
    if (auto live = client_.get(*resource, ns, name)) before = kube::metadataString(*live, "resourceVersion");
    else if (live.error().code != ErrorCode::NotFound) return failed(object, live.error());
    kube::ApplyOptions how;
    how.force = options_.force;
    auto applied = client_.apply(*resource, object, how);
    if (!applied) return failed(object, applied.error());
    return before.empty() || kube::metadataString(*applied, "resourceVersion") != before;
  }

  static Failed failed(const nlohmann::json& object, const Error& e) {
    Failed f{fmt::format("{}: {}", objectTitle(object), e.message), {}};
    if (e.code == ErrorCode::Conflict && e.message.find("apply conflict") != std::string::npos)
      f.hints.emplace_back("pass --force to take these fields over from the other field manager");
    else if (!e.hint.empty())
      f.hints.push_back(e.hint);
    return f;
  }

  std::optional<Failed> waitReady(const std::string& title, const nlohmann::json& object, Clock::time_point deadline) {
    auto resource = resourceFor(client_, object);
    if (!resource) return failed(object, resource.error());
    const std::string ns = kube::metadataString(object, "namespace");
    const std::string name = kube::metadataString(object, "name");
    std::string reason = "not read yet";
    for (;;) {
      auto live = client_.get(*resource, ns, name);
      if (!live) {
        if (live.error().code != ErrorCode::NotFound) return failed(object, live.error());
        reason = "not found";
      } else {
        auto notReady = notReadyReason(*live);
        if (!notReady) return std::nullopt;
        reason = *notReady;
      }
      if (Clock::now() >= deadline) {
        Failed f{fmt::format("{} not ready after {}: {}", objectTitle(object),
                             seconds(options_.readinessTimeout), reason),
                 {}};
        if (objectKind(object) == "Deployment")
          f.hints.push_back(fmt::format("see why: kubectl -n {} describe deployment {}", ns, name));
        else
          f.hints.push_back(fmt::format("see why: kubectl describe crd {}", name));
        f.hints.emplace_back("raise --readiness-timeout if it is only slow");
        return f;
      }
      out_.spin(fmt::format("{}: waiting for {} ({})", title, objectTitle(object), reason));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  kube::KubeClient& client_;
  const ClusterInstallOptions& options_;
  StatusPrinter& out_;
};

}  // namespace

int runClusterInstall(const ClusterInstallOptions& options) {
  auto manifest = renderFromFlags(options.manifest);
  if (!manifest) return reportError(manifest.error());
  auto client = connectCluster(options.cluster);
  if (!client) return reportError(client.error());

  printPlan(**client, *manifest);
  if (options.dryRun) {
    fmt::print("Dry run: nothing was applied.\n");
    return kExitOk;
  }
  if (!options.yes) {
    std::vector<std::string> names;
    for (const auto& c : manifest->components) names.push_back(fmt::format("\"{}\"", componentTitle(c.component)));
    std::string prompt =
        fmt::format("This will install the meshctl {} {} profile with [{}] components into the cluster. Proceed? (y/N)",
                    kVersion, manifest->profile, fmt::join(names, " "));
    if (!confirmOrCancel(prompt, "install")) return kExitDeclined;
  }

  StatusPrinter out(stdout);
  ClusterInstaller installer(**client, options, out);
  std::vector<std::string> done;
  bool changed = false;
  for (size_t i = 0; i < manifest->components.size(); ++i) {
    const auto& c = manifest->components[i];
    const std::string title = componentTitle(c.component);
    auto result = installer.install(c);
    if (auto* f = std::get_if<Failed>(&result)) {
      out.fail(fmt::format("{}: {}", title, f->what), f->hints);
      std::vector<std::string> notDone;
      for (size_t j = i; j < manifest->components.size(); ++j)
        notDone.push_back(componentTitle(manifest->components[j].component));
      out.fail("Installation failed",
               {fmt::format("installed: {}", done.empty() ? std::string("nothing yet") : fmt::format("{}", fmt::join(done, ", "))),
                fmt::format("not installed: {}", fmt::join(notDone, ", ")),
                "fix what is shown above and run `meshctl install` again; it applies only what differs"});
      return kExitUnavailable;
    }
    const bool componentChanged = std::get<bool>(result);
    changed = changed || componentChanged;
    out.ok(fmt::format("{} installed{}", title, componentChanged ? "" : " (no changes)"));
    done.push_back(title);
  }
  out.ok(fmt::format("Installation complete{}", changed ? "" : " (no changes)"));
  if (options.verify) {
    fmt::print("\n");
    return printClusterVerification(**client, manifest->components);
  }
  fmt::print("Next: meshctl verify-install\n");
  return kExitOk;
}

}  // namespace mesh::cli
