#include "install/overlay.h"

#include <string_view>

namespace mesh::install {
namespace {

// Lists istioctl merges item by item (patchMergeKey in its merge types), by document path.
struct KeyedList {
  std::string_view path;
  std::string_view key;
};
constexpr KeyedList kKeyedLists[] = {
    {"spec.components.ingressGateways", "name"},    {"spec.components.egressGateways", "name"},
    {"spec.meshConfig.extensionProviders", "name"}, {"spec.meshConfig.configSources", "address"},
    {"spec.meshConfig.certificates", "secretName"},
};

std::string_view mergeKeyAt(std::string_view path) {
  for (const auto& k : kKeyedLists)
    if (k.path == path) return k.key;
  return {};
}

void merge(nlohmann::json& base, const nlohmann::json& overlay, const std::string& path);

void mergeKeyedList(nlohmann::json& base, const nlohmann::json& overlay, std::string_view key,
                    const std::string& path) {
  if (!base.is_array()) base = nlohmann::json::array();
  for (const auto& item : overlay) {
    auto match = base.end();
    if (item.is_object() && item.contains(key) && !item[key].is_null()) {
      for (auto it = base.begin(); it != base.end(); ++it)
        if (it->is_object() && it->contains(key) && (*it)[key] == item[key]) match = it;
    }
    if (match == base.end()) {
      nlohmann::json fresh = nlohmann::json::object();
      merge(fresh, item, path + "[]");
      base.push_back(std::move(fresh));
    } else {
      merge(*match, item, path + "[]");
    }
  }
}

void merge(nlohmann::json& base, const nlohmann::json& overlay, const std::string& path) {
  if (!overlay.is_object()) {
    base = overlay;
    return;
  }
  if (!base.is_object()) base = nlohmann::json::object();
  for (const auto& [key, value] : overlay.items()) {
    std::string child = path.empty() ? key : path + "." + key;
    if (value.is_null()) {
      base.erase(key);
    } else if (std::string_view mergeKey = mergeKeyAt(child); !mergeKey.empty() && value.is_array()) {
      mergeKeyedList(base[key], value, mergeKey, child);
    } else if (value.is_object()) {
      // Onto {} when the base has no map here, so nulls nested in the overlay drop out too.
      if (!base.contains(key) || !base[key].is_object()) base[key] = nlohmann::json::object();
      merge(base[key], value, child);
    } else {
      base[key] = value;
    }
  }
}

}  // namespace

void mergeOverlay(nlohmann::json& base, const nlohmann::json& overlay) { merge(base, overlay, ""); }

}  // namespace mesh::install
