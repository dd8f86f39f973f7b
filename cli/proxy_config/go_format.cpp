#include "cli/proxy_config/go_format.h"

#include <charconv>
#include <cmath>
#include <string_view>

namespace mesh::cli::pc {
namespace {

template <class F>
std::string toChars(F value, std::chars_format format) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, format);
  return ec == std::errc() ? std::string(buf, end) : std::string();
}

// Go writes exponents with at least two digits and so does C++; encoding/json then turns
// "e-07" into "e-7".
std::string trimNegativeExponentZero(std::string s) {
  size_t n = s.size();
  if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
  return s;
}

}  // namespace

std::string goJsonFloat(double value, int bits) {
  double abs = std::fabs(value);
  bool exponent = false;
  if (abs != 0) {
    if (bits == 64) {
      exponent = abs < 1e-6 || abs >= 1e21;
    } else {
      float f = static_cast<float>(abs);
      exponent = f < 1e-6f || f >= 1e21f;
    }
  }
  std::chars_format format = exponent ? std::chars_format::scientific : std::chars_format::fixed;
  std::string s = bits == 32 ? toChars(static_cast<float>(value), format) : toChars(value, format);
  return exponent ? trimNegativeExponentZero(s) : s;
}

std::string goFormatG(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == 0) return std::signbit(value) ? "-0" : "0";
  // Go's shortest 'g' switches to %e when the decimal exponent is below -4 or at least 6.
  std::string sci = toChars(value, std::chars_format::scientific);
  int exp = std::stoi(sci.substr(sci.find('e') + 1));
  if (exp < -4 || exp >= 6) return sci;
  return toChars(value, std::chars_format::fixed);
}

std::string base64Encode(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (size_t rest = bytes.size() - i; rest > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace mesh::cli::pc
