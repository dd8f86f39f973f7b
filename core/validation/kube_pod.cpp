// Pod and Deployment rules (k8s.io/kubernetes pkg/apis/core/validation and apps/validation, the
// parts a mesh depends on): containers, ports, env, resources, probes, volume mounts; a
// Deployment's selector must select its own template.
#include <charconv>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"
#include "core/validation/kube_rules.h"
#include "core/validation/names.h"
#include "core/validation/net.h"
#include "core/validation/validators.h"

namespace mesh::core {
namespace validation {
namespace {

bool isEnvVarName(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') return false;
  return true;
}

void checkProbe(const Node* probe, const std::string& path, ValidationContext& ctx) {
  if (!isMap(probe)) return;
  const Node* http = field(probe, "httpGet");
  const Node* tcp = field(probe, "tcpSocket");
  const Node* grpc = field(probe, "grpc");
  if (!http && !tcp && !grpc && !field(probe, "exec")) ctx.error(probe, path, "probe needs one of exec, httpGet, tcpSocket or grpc");
  if (http) checkTargetPort(field(http, "port"), sub(path, "httpGet.port"), ctx);
  if (tcp) checkTargetPort(field(tcp, "port"), sub(path, "tcpSocket.port"), ctx);
  if (grpc) checkPortNumber(field(grpc, "port"), sub(path, "grpc.port"), ctx);
  for (std::string_view f : {"initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"}) {
    const Node* v = field(probe, f);
    if (intOf(v).value_or(0) < 0) ctx.error(v, sub(path, f), fmt::format("{} must not be negative", f));
  }
}

void checkContainer(const Node* c, const std::string& path, const std::set<std::string_view>& volumes, ValidationContext& ctx) {
  if (!isMap(c)) return;
  const Node* image = field(c, "image");
  if (!image || image->text().empty()) ctx.error(image ? image : c, sub(path, "image"), "image is required");
  std::set<std::string_view> portNames;
  auto ports = items(c, "ports");
  for (size_t i = 0; i < ports.size(); ++i) {
    std::string p = at(sub(path, "ports"), i);
    checkPortNumber(field(ports[i], "containerPort"), sub(p, "containerPort"), ctx);
    if (const Node* hp = field(ports[i], "hostPort"); intOf(hp).value_or(0) != 0) checkPortNumber(hp, sub(p, "hostPort"), ctx);
    const Node* name = field(ports[i], "name");
    if (auto n = stringOf(name); n && !n->empty()) {
      if (std::string err = checkIanaServiceName(*n); !err.empty()) ctx.error(name, sub(p, "name"), err);
      else if (!portNames.insert(*n).second) ctx.error(name, sub(p, "name"), fmt::format("duplicate port name \"{}\"", *n));
    }
  }
  auto env = items(c, "env");
  for (size_t i = 0; i < env.size(); ++i) {
    std::string p = at(sub(path, "env"), i);
    const Node* name = field(env[i], "name");
    if (auto n = stringOf(name); n && !isEnvVarName(*n))
      ctx.error(name, sub(p, "name"), fmt::format("invalid environment variable name \"{}\": use letters, digits, '_', '-' and '.', not starting with a digit", *n));
    if (isSet(env[i], "value") && field(env[i], "valueFrom"))
      ctx.error(field(env[i], "valueFrom"), sub(p, "valueFrom"), "value and valueFrom cannot both be set");
  }
  const Node* resources = field(c, "resources");
  for (const auto& e : entries(resources, "requests")) {
    const Node* limit = field(field(resources, "limits"), e.key->text());
    auto req = quantityValue(e.value), lim = quantityValue(limit);
    if (req && lim && *req > *lim)
      ctx.error(e.value, keyed(sub(path, "resources.requests"), e.key->text()),
                fmt::format("request {} is more than the limit {}", e.value->text(), limit->text()));
  }
  for (std::string_view probe : {"livenessProbe", "readinessProbe", "startupProbe"})
    checkProbe(field(c, probe), sub(path, probe), ctx);
  auto mounts = items(c, "volumeMounts");
  for (size_t i = 0; i < mounts.size(); ++i) {
    const Node* name = field(mounts[i], "name");
    if (auto n = stringOf(name); n && !volumes.contains(*n))
      ctx.error(name, sub(at(sub(path, "volumeMounts"), i), "name"), fmt::format("volume \"{}\" is not defined in the pod's volumes", *n));
  }
}

bool selectorMatches(const Node* selector, const Node* labels) {
  for (const auto& e : entries(selector, "matchLabels"))
    if (!e.value->isScalar() || text(labels, e.key->text()) != e.value->text() || !field(labels, e.key->text())) return false;
  for (const Node* req : items(selector, "matchExpressions")) {
    std::string_view key = text(req, "key"), op = text(req, "operator");
    const Node* value = field(labels, key);
    bool in = false;
    for (const Node* v : items(req, "values")) in = in || (value && value->text() == v->text());
    if ((op == "In" && !in) || (op == "NotIn" && in) || (op == "Exists" && !value) || (op == "DoesNotExist" && value))
      return false;
  }
  return true;
}

}  // namespace

std::string checkIanaServiceName(std::string_view name) {
  bool letter = false, ok = !name.empty() && name.size() <= 15 && name.front() != '-' && name.back() != '-' &&
                           name.find("--") == std::string_view::npos;
  for (char c : name) {
    letter = letter || (c >= 'a' && c <= 'z');
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  }
  if (ok && letter) return {};
  return fmt::format("invalid port name \"{}\": use at most 15 lowercase letters, digits and '-', with at least one letter", name);
}

void checkTargetPort(const Node* node, const std::string& path, ValidationContext& ctx) {
  if (!node || !node->isScalar()) return;
  if (node->scalarKind() == ScalarKind::Int) {
    checkPortNumber(node, path, ctx);
  } else if (node->scalarKind() == ScalarKind::String) {
    if (std::string err = checkIanaServiceName(node->text()); !err.empty()) ctx.error(node, path, err);
  }
}

std::optional<long double> quantityValue(const Node* node) {
  if (!node || !node->isScalar()) return std::nullopt;
  std::string_view s = node->text();
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == '+' || s[i] == '-')) ++i;
  long double value = std::strtold(std::string(s.substr(0, i)).c_str(), nullptr);
  std::string_view suffix = s.substr(i);
  static const std::pair<std::string_view, long double> kSuffixes[] = {
      {"", 1},      {"m", 1e-3L}, {"u", 1e-6L}, {"n", 1e-9L}, {"k", 1e3L},  {"M", 1e6L},
      {"G", 1e9L},  {"T", 1e12L}, {"P", 1e15L}, {"E", 1e18L}, {"Ki", 1024.0L}, {"Mi", 1048576.0L},
      {"Gi", 1073741824.0L}, {"Ti", 1099511627776.0L}, {"Pi", 1125899906842624.0L}, {"Ei", 1152921504606846976.0L}};
  for (auto [name, factor] : kSuffixes)
    if (suffix == name) return value * factor;
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E'))
    return value * std::pow(10.0L, std::strtold(std::string(suffix.substr(1)).c_str(), nullptr));
  return std::nullopt;
}

void checkPodSpec(const Node* spec, const std::string& path, ValidationContext& ctx) {
  if (!isMap(spec)) return;
  std::set<std::string_view> volumes;
  auto vols = items(spec, "volumes");
  for (size_t i = 0; i < vols.size(); ++i) {
    const Node* name = field(vols[i], "name");
    if (auto n = stringOf(name)) {
      if (!volumes.insert(*n).second) ctx.error(name, sub(at(sub(path, "volumes"), i), "name"), fmt::format("duplicate volume name \"{}\"", *n));
      else if (std::string err = checkDns1123Label(*n); !err.empty()) ctx.error(name, sub(at(sub(path, "volumes"), i), "name"), "volume name " + err);
    }
  }
  const Node* containers = field(spec, "containers");
  if (containers && containers->isSequence() && containers->size() == 0)
    ctx.error(containers, sub(path, "containers"), "a pod needs at least one container");
  std::set<std::string_view> names;
  for (std::string_view list : {"initContainers", "containers"}) {
    auto cs = items(spec, list);
    for (size_t i = 0; i < cs.size(); ++i) {
      std::string p = at(sub(path, list), i);
      const Node* name = field(cs[i], "name");
      if (auto n = stringOf(name)) {
        if (std::string err = checkDns1123Label(*n); !err.empty()) ctx.error(name, sub(p, "name"), "container name " + err);
        else if (!names.insert(*n).second) ctx.error(name, sub(p, "name"), fmt::format("duplicate container name \"{}\"", *n));
      }
      checkContainer(cs[i], p, volumes, ctx);
    }
  }
  checkLabels(field(spec, "nodeSelector"), sub(path, "nodeSelector"), ctx);
  const Node* sa = field(spec, "serviceAccountName");
  if (auto s = stringOf(sa); s && !s->empty())
    if (std::string err = checkDns1123Subdomain(*s); !err.empty()) ctx.error(sa, sub(path, "serviceAccountName"), "serviceAccountName " + err);
}

}  // namespace validation

using namespace validation;

void validatePod(const Resource& r, ValidationContext& ctx) { checkPodSpec(r.spec(), "spec", ctx); }

void validateDeployment(const Resource& r, ValidationContext& ctx) {
  const Node* spec = r.spec();
  const Node* replicas = field(spec, "replicas");
  if (auto n = intOf(replicas); n && *n < 0) ctx.error(replicas, "spec.replicas", fmt::format("replicas {} must not be negative", *n));
  const Node* selector = field(spec, "selector");
  const Node* template_ = field(spec, "template");
  const Node* labels = field(field(template_, "metadata"), "labels");
  if (isMap(selector)) {
    if (!isSet(selector, "matchLabels") && !isSet(selector, "matchExpressions"))
      ctx.error(selector, "spec.selector", "selector must not be empty: a deployment must select its pods");
    else if (template_ && !selectorMatches(selector, labels))
      ctx.error(labels ? labels : template_, labels ? "spec.template.metadata.labels" : "spec.template.metadata",
                "template labels do not match spec.selector: the deployment would not own its pods");
    checkLabels(field(selector, "matchLabels"), "spec.selector.matchLabels", ctx);
  }
  checkLabels(labels, "spec.template.metadata.labels", ctx);
  const Node* podSpec = field(template_, "spec");
  const Node* restart = field(podSpec, "restartPolicy");
  if (auto s = stringOf(restart); s && *s != "Always")
    ctx.error(restart, "spec.template.spec.restartPolicy", fmt::format("restartPolicy {} is not allowed in a deployment: use Always", *s));
  checkPodSpec(podSpec, "spec.template.spec", ctx);
  const Node* strategy = field(spec, "strategy");
  const Node* rolling = field(strategy, "rollingUpdate");
  if (rolling && text(strategy, "type") == "Recreate")
    ctx.error(rolling, "spec.strategy.rollingUpdate", "rollingUpdate may only be set with strategy type RollingUpdate");
  for (std::string_view f : {"maxSurge", "maxUnavailable"}) {
    const Node* v = field(rolling, f);
    if (auto s = stringOf(v)) {
      int pct = -1;
      auto [ptr, ec] = std::from_chars(s->data(), s->data() + s->size(), pct);
      if (ec != std::errc() || ptr != s->data() + s->size() - 1 || s->back() != '%' || pct < 0 || (f == "maxUnavailable" && pct > 100))
        ctx.error(v, sub("spec.strategy.rollingUpdate", f), fmt::format("{} \"{}\" must be a number or a percentage such as 25%", f, *s));
    } else if (auto n = intOf(v); n && *n < 0) {
      ctx.error(v, sub("spec.strategy.rollingUpdate", f), fmt::format("{} must not be negative", f));
    }
  }
  auto zero = [&](std::string_view f) {
    const Node* v = field(rolling, f);
    return v && (v->text() == "0" || v->text() == "0%");
  };
  if (zero("maxSurge") && zero("maxUnavailable"))
    ctx.error(rolling, "spec.strategy.rollingUpdate", "maxSurge and maxUnavailable cannot both be 0");
}

}  // namespace mesh::core
