#include "core/validation/schema_check.h"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cstdint>

#include <fmt/format.h>

#include "core/validation/duration.h"
#include "core/validation/fields.h"

namespace mesh::core::schema {
namespace {

using validation::at;
using validation::keyed;
using validation::sub;

std::string typeMismatch(std::string_view expected, const Node& node) {
  return fmt::format("expected {}, found {}", expected, node.typeName());
}

std::string camelCase(std::string_view snake) {
  std::string out;
  bool upper = false;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return out;
}

size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The closest known field, for "did you mean" hints on typos.
const Field* closest(const Type& type, std::string_view name) {
  const Field* best = nullptr;
  size_t bestDistance = std::max<size_t>(2, name.size() / 4) + 1;
  for (const auto& f : type.fields) {
    size_t d = editDistance(name, f.name);
    if (d < bestDistance) best = &f, bestDistance = d;
  }
  return best;
}

const Field* lookup(const Type& type, std::string_view key) {
  if (const Field* f = type.field(key)) return f;
  // protojson accepts a proto field's original snake_case name as well as its JSON name.
  if (type.protoNames && key.find('_') != std::string_view::npos) return type.field(camelCase(key));
  return nullptr;
}

bool checkRange(int64_t v, const Type& type, const Node& node, const std::string& path, ValidationContext& ctx) {
  int64_t lo = INT64_MIN, hi = INT64_MAX;
  if (type.kind == TypeKind::Int32) lo = INT32_MIN, hi = INT32_MAX;
  if (type.kind == TypeKind::UInt32) lo = 0, hi = UINT32_MAX;
  if (v < lo || v > hi) {
    ctx.error(&node, path, fmt::format("value {} is out of range {}..{} for {}", v, lo, hi, type.describe()));
    return false;
  }
  return true;
}

// Kubernetes resource.Quantity: a decimal number with an optional suffix (Ki..Ei, n u m k M G T P
// E) or a decimal exponent (1e3).
bool isQuantity(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  std::string_view suffix = s.substr(i);
  static constexpr std::string_view kSuffixes[] = {"",  "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u",
                                                   "m", "k",  "M",  "G",  "T",  "P",  "E"};
  for (auto k : kSuffixes)
    if (suffix == k) return true;
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    size_t j = 1;
    if (suffix[j] == '+' || suffix[j] == '-') ++j;
    if (j >= suffix.size()) return false;
    for (; j < suffix.size(); ++j)
      if (!std::isdigit(static_cast<unsigned char>(suffix[j]))) return false;
    return true;
  }
  return false;
}

void checkObject(const Type& type, const Node& node, const std::string& path, ValidationContext& ctx) {
  std::vector<const Field*> seen;
  for (const auto& e : node.entries()) {
    std::string_view key = e.key->text();
    const Field* f = e.key->isScalar() ? lookup(type, key) : nullptr;
    if (!f) {
      const Field* hint = closest(type, key);
      ctx.error(e.key, path,
                hint ? fmt::format("unknown field \"{}\" (did you mean \"{}\"?)", key, hint->name)
                     : fmt::format("unknown field \"{}\"", key));
      continue;
    }
    if (std::find(seen.begin(), seen.end(), f) != seen.end()) {
      ctx.error(e.key, path, fmt::format("field \"{}\" is set twice (as {} and its snake_case name)", f->name, f->name));
      continue;
    }
    seen.push_back(f);
    check(*f->type, *e.value, sub(path, f->name), ctx);
  }
  for (const auto& f : type.fields) {
    if (!f.required) continue;
    if (!validation::field(&node, f.name)) ctx.error(&node, sub(path, f.name), "required field is missing");
  }
  for (const auto& group : type.oneofs) {
    std::string_view first;
    for (const auto& name : group) {
      const Node* v = validation::field(&node, name);
      if (!v) continue;
      if (first.empty()) {
        first = name;
        continue;
      }
      std::vector<std::string_view> names(group.begin(), group.end());
      ctx.error(v, sub(path, name),
                fmt::format("{} and {} cannot both be set: set only one of {}", first, name,
                            validation::oneOfList(names)));
      break;
    }
  }
}

}  // namespace

void check(const Type& type, const Node& node, const std::string& path, ValidationContext& ctx) {
  // null is "not set", as in Kubernetes and protobuf JSON; required fields are checked by the parent.
  if (node.isNull()) return;
  switch (type.kind) {
    case TypeKind::Any:
      return;
    case TypeKind::String:
      if (node.scalarKind() != ScalarKind::String || !node.isScalar()) ctx.error(&node, path, typeMismatch("string", node));
      return;
    case TypeKind::Int32:
    case TypeKind::UInt32:
    case TypeKind::Int64: {
      auto v = node.asInt();
      if (!node.isScalar() || !v) {
        ctx.error(&node, path, typeMismatch("integer", node));
        return;
      }
      checkRange(*v, type, node, path, ctx);
      return;
    }
    case TypeKind::Bool:
      if (!node.isScalar() || !node.asBool()) ctx.error(&node, path, typeMismatch("boolean", node));
      return;
    case TypeKind::Double:
      if (!node.isScalar() || !node.asDouble()) ctx.error(&node, path, typeMismatch("number", node));
      return;
    case TypeKind::Duration: {
      if (!node.isScalar() || node.scalarKind() != ScalarKind::String) {
        ctx.error(&node, path, fmt::format("expected a duration string such as \"5s\", found {}", node.typeName()));
        return;
      }
      if (!validation::parseDuration(node.text())) ctx.error(&node, path, validation::durationError(node.text()));
      return;
    }
    case TypeKind::Quantity: {
      ScalarKind k = node.scalarKind();
      if (!node.isScalar() || k == ScalarKind::Bool) {
        ctx.error(&node, path, typeMismatch("quantity (such as 500m or 1Gi)", node));
        return;
      }
      if (k == ScalarKind::String && !isQuantity(node.text()))
        ctx.error(&node, path, fmt::format("invalid quantity \"{}\": use a number with an optional suffix such as "
                                           "m, Ki, Mi or Gi",
                                           node.text()));
      return;
    }
    case TypeKind::IntOrString: {
      ScalarKind k = node.scalarKind();
      if (!node.isScalar() || (k != ScalarKind::Int && k != ScalarKind::String))
        ctx.error(&node, path, typeMismatch("integer or string", node));
      return;
    }
    case TypeKind::Enum: {
      if (!node.isScalar() || node.scalarKind() != ScalarKind::String) {
        ctx.error(&node, path, typeMismatch("string", node));
        return;
      }
      const auto& vs = type.enumValues;
      if (std::find(vs.begin(), vs.end(), node.text()) == vs.end()) {
        std::vector<std::string_view> allowed(vs.begin(), vs.end());
        ctx.error(&node, path,
                  fmt::format("value \"{}\" is not allowed: use {}", node.text(), validation::oneOfList(allowed)));
      }
      return;
    }
    case TypeKind::List:
      if (!node.isSequence()) {
        ctx.error(&node, path, typeMismatch("list", node));
        return;
      }
      for (size_t i = 0; i < node.items().size(); ++i) {
        const Node& item = *node.items()[i];
        if (item.isNull() && type.element->kind == TypeKind::Object) {
          ctx.error(&item, at(path, i), "list item must not be null");
          continue;
        }
        check(*type.element, item, at(path, i), ctx);
      }
      return;
    case TypeKind::Map:
      if (!node.isMapping()) {
        ctx.error(&node, path, typeMismatch("map", node));
        return;
      }
      for (const auto& e : node.entries()) {
        std::string itemPath = keyed(path, e.key->text());
        if (type.keyKind == TypeKind::UInt32) {
          // Keys are strings in JSON; YAML users write 8080 or "8080", both mean the number.
          std::string_view kt = e.key->text();
          uint64_t k = 0;
          auto [ptr, ec] = std::from_chars(kt.data(), kt.data() + kt.size(), k);
          if (kt.empty() || ec != std::errc() || ptr != kt.data() + kt.size() || k > UINT32_MAX) {
            ctx.error(e.key, path, fmt::format("map key \"{}\" must be a non-negative integer", e.key->text()));
            continue;
          }
        }
        check(*type.element, *e.value, itemPath, ctx);
      }
      return;
    case TypeKind::Object:
      if (!node.isMapping()) {
        ctx.error(&node, path, typeMismatch("map", node));
        return;
      }
      checkObject(type, node, path, ctx);
      return;
  }
}

}  // namespace mesh::core::schema
