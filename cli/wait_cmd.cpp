// meshctl wait --for=distribution|delete KIND/NAME[.NAMESPACE] [--timeout 30s]: istioctl's
// x wait. Polls meshd's GetDistribution until every connected proxy has ACKed the generation
// that carried the object's current revision (or its deletion); on timeout lists the proxies
// that lag and why (a type not yet ACKed, or NACKed with the proxy's message), and exits 1.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "cli/app.h"
#include "cli/exit_codes.h"
#include "cli/meshd_client.h"
#include "core/kinds.h"
#include "core/validation/duration.h"

namespace mesh::cli {
namespace {

struct WaitOptions {
  std::vector<std::string> target;  // "KIND/NAME[.NS]" or "KIND" "NAME[.NS]"
  std::string condition = "distribution";
  std::string timeout = "30s";
  std::string ns;
  uint64_t resourceVersion = 0;
  double threshold = 1.0;
  MeshdFlags meshd;
};

struct Target {
  const core::KindInfo* kind = nullptr;
  std::string name, ns;
  std::string display;  // "virtualservice reviews.default", as the user named it
};

Result<Target> parseTarget(const WaitOptions& o) {
  std::string kindText, nameText;
  if (o.target.size() == 1 && o.target[0].find('/') != std::string::npos) {
    auto slash = o.target[0].find('/');
    kindText = o.target[0].substr(0, slash);
    nameText = o.target[0].substr(slash + 1);
  } else if (o.target.size() == 2) {
    kindText = o.target[0];
    nameText = o.target[1];
  } else {
    return fail(ErrorCode::Usage, "wait needs one object: KIND/NAME[.NAMESPACE] (or KIND NAME[.NAMESPACE])");
  }
  Target t;
  t.kind = core::findKindByName(kindText);
  if (t.kind == nullptr)
    return fail(ErrorCode::Usage, fmt::format("unknown kind {:?}", kindText),
                "name a config kind as kubectl would: virtualservice, vs, destinationrules, Gateway, ...");
  auto dot = nameText.find('.');
  t.name = nameText.substr(0, dot);
  t.ns = dot == std::string::npos ? (o.ns.empty() ? "default" : o.ns) : nameText.substr(dot + 1);
  if (!t.kind->namespaced) t.ns.clear();
  if (t.name.empty()) return fail(ErrorCode::Usage, fmt::format("{:?}: the object has no name", nameText));
  t.display = fmt::format("{} {}{}", kindText, t.name, t.ns.empty() ? "" : "." + t.ns);
  return t;
}

// How many proxies have it, and whether that is enough. An object no proxy needs (no proxies
// connected) counts as distributed, as in istioctl.
bool reached(const debugv1::Distribution& d, double threshold, size_t& distributed) {
  distributed = static_cast<size_t>(std::ranges::count_if(d.proxies(), [](const auto& p) { return p.distributed(); }));
  size_t total = static_cast<size_t>(d.proxies_size());
  return total == 0 || static_cast<double>(distributed) >= threshold * static_cast<double>(total) - 1e-9;
}

int run(const WaitOptions& o) {
  if (o.condition != "distribution" && o.condition != "delete")
    return reportError({ErrorCode::Usage, fmt::format("--for {}: must be 'distribution' or 'delete'", o.condition), ""});
  if (!(o.threshold > 0 && o.threshold <= 1))
    return reportError({ErrorCode::Usage, "--threshold must be greater than 0 and at most 1", ""});
  std::string durationProblem;
  auto timeoutNs = core::validation::parseDuration(o.timeout, &durationProblem);
  if (!timeoutNs || *timeoutNs < 0)
    return reportError({ErrorCode::Usage, fmt::format("--timeout {}: {}", o.timeout,
                                                      core::validation::durationError(o.timeout)), ""});
  auto target = parseTarget(o);
  if (!target) return reportError(target.error());
  auto client = MeshdClient::open(o.meshd);
  if (!client) return reportError(client.error());

  debugv1::GetDistributionRequest request;
  request.set_group(std::string(target->kind->group));
  request.set_kind(std::string(target->kind->kind));
  request.set_namespace_(target->ns);
  request.set_name(target->name);
  const bool forDelete = o.condition == "delete";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(*timeoutNs);
  debugv1::Distribution last;
  for (;;) {
    auto answer = client->distribution(request);
    if (!answer) return reportError(answer.error());
    last = std::move(*answer);
    if (!forDelete && last.exists() && last.invalid_size() > 0) {
      const auto& bad = last.invalid(0);
      return reportError({ErrorCode::InvalidInput,
                          fmt::format("{} is not distributed: meshd leaves it out as invalid: {}{}{}", target->display,
                                      bad.field().empty() ? "" : bad.field() + ": ", bad.message(),
                                      bad.file().empty() ? "" : fmt::format(" ({}:{})", bad.file(), bad.line())),
                          "fix it and apply it again; `meshctl analyze` shows every problem"});
    }
    bool present = forDelete ? !last.exists() && last.generation() > 0 : last.exists();
    bool fresh = forDelete || last.revision() >= o.resourceVersion;
    size_t distributed = 0;
    if (present && fresh && reached(last, o.threshold, distributed)) {
      fmt::print("{} {} {}/{} proxies (generation {})\n", target->display,
                 forDelete ? "deletion distributed to" : "distributed to", distributed, last.proxies_size(),
                 last.generation());
      return kExitOk;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Timed out: say what is missing.
  if (!forDelete && !last.exists())
    fmt::print(stderr, "meshd has not seen {} (is it applied, in this namespace?)\n", target->display);
  else if (forDelete && last.exists())
    fmt::print(stderr, "{} still exists in meshd's config\n", target->display);
  else if (!forDelete && last.revision() < o.resourceVersion)
    fmt::print(stderr, "meshd has revision {} of {}, not yet {}\n", last.revision(), target->display,
               o.resourceVersion);
  for (const auto& p : last.proxies())
    if (!p.distributed()) {
      std::string why;
      for (const auto& lag : p.lagging()) why += (why.empty() ? "" : ", ") + lag;
      fmt::print(stderr, "  {}: at generation {}, needs {}{}\n", p.name(), p.acked_generation(), last.generation(),
                 why.empty() ? "" : " (behind: " + why + ")");
    }
  fmt::print(stderr, "Error: timeout expired before {} became effective on all proxies\n", target->display);
  return kExitTimedOut;
}

}  // namespace

void addWaitCommand(CLI::App& app, RunState& state) {
  auto* cmd = app.add_subcommand("wait", "Waits until a config object has reached every proxy");
  auto opts = std::make_shared<WaitOptions>();
  cmd->add_option("target", opts->target, "KIND/NAME[.NAMESPACE], or KIND NAME[.NAMESPACE]")->required();
  withChoices(cmd->add_option("--for", opts->condition, "Wait condition")->default_str("distribution"),
              {"distribution", "delete"});
  cmd->add_option("--timeout", opts->timeout, "How long to wait before giving up")->default_str("30s");
  cmd->add_option("-n,--namespace", opts->ns, "The object's namespace when NAME has none (default: default)");
  cmd->add_option("--resource-version", opts->resourceVersion,
                  "Wait for this revision of the object (or a later one) to be distributed");
  cmd->add_option("--threshold", opts->threshold, "The share of proxies that must have it")->default_str("1");
  addMeshdFlags(cmd, opts->meshd);
  cmd->callback([opts, &state] { state.exitCode = run(*opts); });
}

}  // namespace mesh::cli
