#include "backends/kube/codec.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>

namespace mesh::backends::kube {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> decodeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (size_t i = 0; i < kAlphabet.size(); ++i)
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}

// Thrown from the parser callback to stop at the depth limit; caught in parseJson.
struct TooDeep {};

}  // namespace

std::optional<std::string> base64Decode(std::string_view text) {
  static constexpr auto kTable = decodeTable();
  std::string clean;
  clean.reserve(text.size());
  for (char c : text)
    if (c != '\r' && c != '\n') clean.push_back(c);
  if (clean.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(clean.size() / 4 * 3);
  for (size_t i = 0; i < clean.size(); i += 4) {
    bool last = i + 4 == clean.size();
    int pad = 0;
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = clean[i + j];
      int v;
      if (c == '=') {
        // Padding only at the very end, and only in the last two places.
        if (!last || j < 2) return std::nullopt;
        ++pad;
        v = 0;
      } else {
        if (pad > 0) return std::nullopt;
        v = kTable[static_cast<unsigned char>(c)];
        if (v < 0) return std::nullopt;
      }
      group = group << 6 | static_cast<uint32_t>(v);
    }
    out.push_back(static_cast<char>(group >> 16 & 0xff));
    if (pad < 2) out.push_back(static_cast<char>(group >> 8 & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(group & 0xff));
  }
  return out;
}

std::string base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(bytes[k])); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t g = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    for (int shift : {18, 12, 6, 0}) out.push_back(kAlphabet[g >> shift & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t g = at(i) << 16 | (rest == 2 ? at(i + 1) << 8 : 0);
    out.push_back(kAlphabet[g >> 18 & 63]);
    out.push_back(kAlphabet[g >> 12 & 63]);
    out.push_back(rest == 2 ? kAlphabet[g >> 6 & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<nlohmann::json> parseJson(std::string_view text, std::string_view what,
                                 const JsonLimits& limits) {
  size_t maxDepth = limits.maxDepth;
  auto guard = [maxDepth](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (static_cast<size_t>(depth) > maxDepth) throw TooDeep{};
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), guard);
  } catch (const TooDeep&) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("{} nests deeper than {} levels", what, maxDepth));
  } catch (const nlohmann::json::parse_error& e) {
    // Only the offset: e.what() quotes the last token read, which may be part of a secret.
    return fail(ErrorCode::InvalidInput,
                fmt::format("{} is not valid JSON (error at byte {})", what, e.byte));
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::InvalidInput,
                fmt::format("{} is not valid JSON (error {})", what, e.id));
  }
}

std::string stringAt(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace mesh::backends::kube
