#include "local/install_state.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

#include "backends/file/file_io.h"
#include "core/yaml/convert.h"
#include "core/yaml/parser.h"
#include "install/yaml_emit.h"

namespace mesh::local {
namespace {

constexpr std::string_view kApiVersion = "meshctl.dev/v1alpha1";
constexpr std::string_view kKind = "LocalMeshState";
constexpr size_t kMaxStateBytes = 4u << 20;

}  // namespace

const ComponentState* InstallState::find(std::string_view name) const {
  for (const auto& c : components)
    if (c.name == name) return &c;
  return nullptr;
}

std::string nowRfc3339() {
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", now);
}

nlohmann::ordered_json toJson(const InstallState& state) {
  using Object = nlohmann::ordered_json;
  Object components = Object::array();
  for (const auto& c : state.components) {
    Object item{{"name", c.name}, {"role", c.role}};
    if (!c.skipped.empty()) {
      item["skipped"] = c.skipped;
    } else {
      item["binary"] = c.binary;
      item["args"] = c.args;
      item["pid"] = c.pid;
      item["startedAt"] = c.startedAt;
      item["readyUrl"] = c.readyUrl;
    }
    Object ports = Object::object();
    for (const auto& [k, v] : c.ports) ports[k] = v;
    item["ports"] = std::move(ports);
    components.push_back(std::move(item));
  }
  return Object{{"apiVersion", kApiVersion},
                {"kind", kKind},
                {"meshctlVersion", state.meshctlVersion},
                {"profile", state.profile},
                {"createdHome", state.createdHome},
                {"installedAt", state.installedAt},
                {"components", std::move(components)},
                {"istioOperator", Object(state.iop)}};
}

Result<InstallState> stateFromJson(const nlohmann::json& json, const std::string& path) {
  auto bad = [&](std::string_view what) {
    return fail(ErrorCode::InvalidInput, fmt::format("{}: {}", path, what),
                "the file is written by `meshctl install --local`; run it again to rewrite it");
  };
  if (!json.is_object()) return bad(fmt::format("not a {} document", kKind));
  try {
    if (json.value("kind", "") != kKind) return bad(fmt::format("not a {} document", kKind));
    InstallState s;
    s.meshctlVersion = json.value("meshctlVersion", "");
    s.profile = json.value("profile", "");
    s.createdHome = json.value("createdHome", false);
    s.installedAt = json.value("installedAt", "");
    s.iop = json.value("istioOperator", nlohmann::json::object());
    for (const auto& item : json.value("components", nlohmann::json::array())) {
      ComponentState c;
      c.name = item.at("name").get<std::string>();
      c.role = item.value("role", "");
      c.skipped = item.value("skipped", "");
      c.binary = item.value("binary", "");
      c.args = item.value("args", std::vector<std::string>{});
      c.pid = item.value("pid", 0);
      c.startedAt = item.value("startedAt", "");
      c.readyUrl = item.value("readyUrl", "");
      const nlohmann::json ports = item.value("ports", nlohmann::json::object());  // items() would dangle on a temporary
      for (const auto& [k, v] : ports.items()) c.ports[k] = v.get<int>();
      s.components.push_back(std::move(c));
    }
    return s;
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
}

Result<InstallState> readState(const std::filesystem::path& path) {
  auto text = backends::readWholeFile(path, kMaxStateBytes);
  if (!text) return Failure(text.error());
  core::ParsedFile parsed = core::parseYaml(path.string(), *text);
  if (parsed.error) return fail(ErrorCode::InvalidInput, parsed.error->format());
  if (parsed.documents.size() != 1)
    return fail(ErrorCode::InvalidInput, fmt::format("{}: expected one YAML document", path.string()));
  return stateFromJson(core::toJson(*parsed.documents.front()), path.string());
}

Result<void> writeState(const std::filesystem::path& path, const InstallState& state) {
  return backends::writeFileAtomically(path, install::toYaml(toJson(state)));
}

}  // namespace mesh::local
