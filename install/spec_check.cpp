#include "install/spec_check.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "core/resource.h"
#include "core/validation/context.h"
#include "core/validation/names.h"
#include "core/validation/schema_check.h"
#include "core/yaml/convert.h"
#include "core/yaml/parser.h"

namespace mesh::install {
namespace {

// An install spec is a few kilobytes; anything near this is not one.
constexpr size_t kMaxOperatorBytes = 16u << 20;

const core::schema::Type& namedType(std::string_view name) {
  const core::schema::Type* t = core::schema::findType(name);
  if (!t) {
    std::fprintf(stderr, "meshctl: internal error: schema type %.*s is missing\n", static_cast<int>(name.size()),
                 name.data());
    std::abort();
  }
  return *t;
}

core::Diagnostic finding(std::string field, std::string message) {
  return core::Diagnostic{core::Severity::Error, {}, 0, 0, {}, std::move(field), std::move(message), {}, {}};
}

// Runs the schema checker over `root` of `tree`; the findings keep their file positions.
core::Diagnostics checkNode(const core::schema::Type& type, const std::shared_ptr<core::Tree>& tree,
                            const core::Node& root, const std::string& path) {
  core::Resource resource(tree, &root, nullptr, "");
  core::Diagnostics out;
  core::ValidationContext ctx(resource, out);
  core::schema::check(type, root, path, ctx);
  // Findings name the field path; an IstioOperator's own name says nothing more.
  for (auto& d : out) d.resource.clear();
  return out;
}

bool enabled(const nlohmann::json& component) {
  return component.is_object() && component.value("enabled", false) == true;
}

void checkGateways(const nlohmann::json& spec, core::Diagnostics& out) {
  std::string installNs = spec.value("namespace", std::string());
  if (installNs.empty() && spec.contains("values") && spec["values"].contains("global"))
    installNs = spec["values"]["global"].value("istioNamespace", std::string());
  if (installNs.empty()) installNs = "istio-system";
  std::map<std::pair<std::string, std::string>, std::string> seen;  // (ns, name) → path
  const nlohmann::json& components = spec.contains("components") ? spec["components"] : nlohmann::json();
  for (const char* list : {"ingressGateways", "egressGateways"}) {
    if (!components.is_object() || !components.contains(list) || !components[list].is_array()) continue;
    const auto& gateways = components[list];
    for (size_t i = 0; i < gateways.size(); ++i) {
      const auto& gw = gateways[i];
      std::string path = fmt::format("spec.components.{}[{}]", list, i);
      if (!gw.is_object()) continue;
      std::string name = gw.value("name", std::string());
      if (std::string why = core::validation::checkDns1123Label(name); !why.empty()) {
        out.push_back(finding(path + ".name", fmt::format("\"{}\" is not a valid name: {}", name, why)));
        continue;
      }
      if (!enabled(gw)) continue;
      std::string ns = gw.value("namespace", installNs);
      auto [it, added] = seen.emplace(std::pair(ns, name), path);
      if (!added)
        out.push_back(
            finding(path + ".name", fmt::format("gateway {}/{} is also defined at {}", ns, name, it->second)));
    }
  }
}

void checkNames(const nlohmann::json& spec, core::Diagnostics& out) {
  auto checkLabel = [&](const nlohmann::json& obj, const std::string& path, const char* key) {
    if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) return;
    std::string v = obj[key];
    if (v.empty()) return;
    if (std::string why = core::validation::checkDns1123Label(v); !why.empty())
      out.push_back(finding(path + "." + key, fmt::format("\"{}\" is not a valid name: {}", v, why)));
  };
  checkLabel(spec, "spec", "namespace");
  checkLabel(spec, "spec", "revision");
  if (spec.contains("values") && spec["values"].contains("global"))
    checkLabel(spec["values"]["global"], "spec.values.global", "istioNamespace");
  if (!spec.contains("components") || !spec["components"].is_object()) return;
  for (const auto& [name, component] : spec["components"].items()) {
    if (component.is_array()) {
      for (size_t i = 0; i < component.size(); ++i)
        checkLabel(component[i], fmt::format("spec.components.{}[{}]", name, i), "namespace");
    } else {
      checkLabel(component, "spec.components." + name, "namespace");
    }
  }
}

void checkAutoscale(const nlohmann::json& values, const std::string& path, core::Diagnostics& out) {
  if (!values.is_object() || !values.contains("autoscaleMin") || !values.contains("autoscaleMax")) return;
  if (!values["autoscaleMin"].is_number_integer() || !values["autoscaleMax"].is_number_integer()) return;
  int64_t lo = values["autoscaleMin"], hi = values["autoscaleMax"];
  if (lo < 1) out.push_back(finding(path + ".autoscaleMin", "must be at least 1"));
  if (hi < lo) out.push_back(finding(path + ".autoscaleMax", fmt::format("{} is below autoscaleMin ({})", hi, lo)));
}

}  // namespace

const core::schema::Type& operatorType() {
  static const core::schema::Type& t = namedType("IstioOperator");
  return t;
}

const core::schema::Type& operatorSpecType() {
  static const core::schema::Type& t = namedType("IstioOperatorSpec");
  return t;
}

Result<nlohmann::json> readOperatorText(const std::string& path, std::string_view text) {
  core::ParsedFile parsed = core::parseYaml(path, text);
  if (parsed.error) return fail(ErrorCode::InvalidInput, parsed.error->format());
  if (parsed.documents.empty())
    return fail(ErrorCode::InvalidInput, fmt::format("{}: no IstioOperator in the file", path));
  if (parsed.documents.size() > 1) {
    core::Mark m = parsed.documents[1]->mark();
    return fail(ErrorCode::InvalidInput,
                fmt::format("{}:{}:{}: one IstioOperator per file: this is document {} of {}", path, m.line, m.column,
                            2, parsed.documents.size()),
                "give each overlay its own -f file");
  }
  const core::Node& doc = *parsed.documents[0];
  if (!doc.isMapping())
    return fail(ErrorCode::InvalidInput, fmt::format("{}:{}:{}: expected an IstioOperator map, found {}", path,
                                                     doc.mark().line, doc.mark().column, doc.typeName()));
  core::Diagnostics findings = checkNode(operatorType(), parsed.tree, doc, "");
  auto identity = [&](std::string_view field, std::string_view want) {
    const core::Node* n = doc.get(field);
    if (n && n->isScalar() && n->text() == want) return;
    core::Mark m = n ? n->mark() : doc.mark();
    findings.insert(findings.begin(), core::Diagnostic{core::Severity::Error,
                                                       path,
                                                       m.line,
                                                       m.column,
                                                       {},
                                                       std::string(field),
                                                       n ? fmt::format("expected {}, found \"{}\"", want, n->text())
                                                         : fmt::format("required field is missing (use {})", want),
                                                       {},
                                                       {}});
  };
  identity("kind", kOperatorKind);
  identity("apiVersion", kOperatorApiVersion);
  if (core::hasErrors(findings)) return Failure(findingsError(path + " is not a valid IstioOperator", findings));
  return core::toJson(doc);
}

Result<nlohmann::json> readOperatorFile(const std::string& path) {
  std::error_code ec;
  if (path != "-" && std::filesystem::is_directory(path, ec))
    return fail(ErrorCode::Usage, fmt::format("{}: is a directory", path), "-f takes one IstioOperator file");
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f)
    return fail(ErrorCode::Io,
                fmt::format("{}: {}", path, errno == ENOENT ? "no such file or directory" : std::strerror(errno)));
  std::string content;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    content.append(buf, n);
    if (content.size() > kMaxOperatorBytes) break;
  }
  bool failed = std::ferror(f) != 0;
  if (f != stdin) std::fclose(f);
  if (failed) return fail(ErrorCode::Io, fmt::format("{}: read error", path));
  if (content.size() > kMaxOperatorBytes)
    return fail(ErrorCode::InvalidInput, fmt::format("{}: over the limit of {} bytes", path, kMaxOperatorBytes));
  return readOperatorText(path == "-" ? "stdin" : path, content);
}

core::Diagnostics checkValue(const core::schema::Type& type, const nlohmann::json& value, const std::string& path) {
  auto tree = std::make_shared<core::Tree>("");
  const core::Node* root = core::fromJson(tree->arena(), value);
  core::Diagnostics out = checkNode(type, tree, *root, path);
  for (auto& d : out) d.line = d.column = 0;  // built in memory: no position to show
  return out;
}

Result<void> checkMerged(const nlohmann::json& iop) {
  core::Diagnostics findings = checkValue(operatorType(), iop, "");
  if (!findings.empty()) return Failure(findingsError("the merged IstioOperator is not valid", findings));
  const nlohmann::json& spec = iop.contains("spec") ? iop["spec"] : nlohmann::json::object();
  checkGateways(spec, findings);
  checkNames(spec, findings);
  if (spec.contains("values") && spec["values"].is_object()) {
    const auto& values = spec["values"];
    if (values.contains("pilot")) checkAutoscale(values["pilot"], "spec.values.pilot", findings);
    if (values.contains("gateways") && values["gateways"].is_object())
      for (const auto& [name, gw] : values["gateways"].items())
        checkAutoscale(gw, fmt::format("spec.values.gateways[{}]", name), findings);
  }
  if (!findings.empty()) return Failure(findingsError("the merged IstioOperator is not valid", findings));
  return {};
}

Error findingsError(const std::string& what, const core::Diagnostics& findings) {
  std::string message = what + ":";
  for (const auto& d : findings) message += "\n\t* " + d.format();
  return Error{ErrorCode::InvalidInput, std::move(message), {}};
}

}  // namespace mesh::install
