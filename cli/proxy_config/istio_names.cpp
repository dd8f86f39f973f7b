#include "cli/proxy_config/istio_names.h"

#include <charconv>
#include <vector>

namespace mesh::cli::pc {
namespace {

// strings.Cut
bool cut(std::string_view s, std::string_view sep, std::string_view& before, std::string_view& after) {
  size_t i = s.find(sep);
  if (i == std::string_view::npos) return false;
  before = s.substr(0, i);
  after = s.substr(i + sep.size());
  return true;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

}  // namespace

bool goAtoi(std::string_view s, long long& out) {
  if (s.empty()) return false;
  size_t i = s[0] == '+' || s[0] == '-' ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t k = i; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return false;
  std::string_view digits = s.substr(i);
  long long v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc()) return false;
  out = s[0] == '-' ? -v : v;
  return true;
}

SubsetKey parseSubsetKey(std::string_view s) {
  SubsetKey key;
  std::string_view sep = "|";
  if (s.starts_with("outbound_.") || s.starts_with("inbound_.")) sep = "_.";
  std::string_view dir, rest, port, subset;
  if (!cut(s, sep, dir, rest)) return key;
  key.direction = std::string(dir);
  if (!cut(rest, sep, port, rest)) return key;
  long long p = 0;
  if (goAtoi(port, p)) key.port = p;
  if (!cut(rest, sep, subset, rest)) return key;
  key.subset = std::string(subset);
  if (rest.find(sep) != std::string_view::npos) return key;
  key.hostname = std::string(rest);
  return key;
}

bool hasSubsetKeyForm(std::string_view name) { return split(name, '|').size() > 3; }

SubsetKey safelyParseSubsetKey(std::string_view name) {
  if (hasSubsetKeyForm(name)) return parseSubsetKey(name);
  SubsetKey key;
  key.hostname = std::string(name);
  return key;
}

std::string describeManagement(const envoy::config::core::v3::Metadata* metadata) {
  if (metadata == nullptr) return "";
  auto istio = metadata->filter_metadata().find("istio");
  if (istio == metadata->filter_metadata().end()) return "";
  auto config = istio->second.fields().find("config");
  if (config == istio->second.fields().end()) return "";
  std::string_view path = config->second.string_value();
  if (path.starts_with("/apis/networking.istio.io/")) {
    std::vector<std::string_view> pieces = split(path, '/');
    if (pieces.size() != 8) return "";
    return std::string(pieces[7]) + "." + std::string(pieces[5]);
  }
  return "<unknown>";
}

std::string localityToString(const envoy::config::core::v3::Locality* l) {
  if (l == nullptr) return "";
  std::string out = l->region();
  if (l->zone().empty()) return out;
  out += "/" + l->zone();
  if (l->sub_zone().empty()) return out;
  return out + "/" + l->sub_zone();
}

}  // namespace mesh::cli::pc
