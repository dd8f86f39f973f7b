#include "cli/proxy_config/dump_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

#include "cli/proxy_config/json_value.h"
#include "cli/proxy_config/type_registry.h"

namespace mesh::cli::pc {

namespace admin = envoy::admin::v3;
namespace discovery = envoy::service::discovery::v3;

namespace {

// Go spells system errors in lower case ("no such file or directory").
std::string goErrorText(int err) {
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

Result<std::string> readInputFile(const std::string& path) {
  int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(ErrorCode::Io, fmt::format("open {}: {}", path, goErrorText(errno)));
  std::string data;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      if (fd != STDIN_FILENO) ::close(fd);
      return fail(ErrorCode::Io, fmt::format("read {}: {}", path, goErrorText(err)));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  if (fd != STDIN_FILENO) ::close(fd);
  return data;
}

Result<std::string> FileDumpSource::fetch(AdminResource) {
  auto data = readInputFile(path_);
  if (!data) {
    Error e = data.error();
    e.message = fmt::format("failed to get config dump from file {}: {}", path_, e.message);
    return Failure(std::move(e));
  }
  return data;
}

Result<admin::ConfigDump> parseConfigDump(std::string_view json, std::string_view origin) {
  auto binary = TypeRegistry::instance().jsonToBinary(admin::ConfigDump::descriptor()->full_name(), json);
  admin::ConfigDump dump;
  if (!binary || !dump.ParseFromString(*binary)) {
    // The JSON reader appends the offending text on more lines: keep its first line only.
    std::string reason = binary ? "invalid protobuf" : binary.error().message;
    reason = reason.substr(0, reason.find('\n'));
    return fail(ErrorCode::InvalidInput, fmt::format("error unmarshalling config dump response from Envoy{}: {}",
                                                     origin.empty() ? "" : fmt::format(" ({})", origin), reason));
  }
  return dump;
}

Result<admin::ConfigDump> loadConfigDump(DumpSource& source, AdminResource resource) {
  auto json = source.fetch(resource);
  if (!json) return Failure(json.error());
  return parseConfigDump(*json, source.describe());
}

Result<SynczResponses> FileSynczSource::fetch() {
  auto text = readInputFile(path_);
  if (!text) {
    Error e = text.error();
    e.message = fmt::format("failed to read syncz file {}: {}", path_, e.message);
    return Failure(std::move(e));
  }
  auto doc = parseJson(*text);
  if (!doc) return fail(ErrorCode::InvalidInput, fmt::format("{}: {}", path_, doc.error().message));
  if (doc->kind != JsonValue::Kind::Object)
    return fail(ErrorCode::InvalidInput,
                fmt::format("{}: want a JSON object mapping each istiod to its syncz DiscoveryResponse", path_));
  SynczResponses out;
  for (const auto& [istiod, value] : doc->members) {
    auto binary = TypeRegistry::instance().jsonToBinary(discovery::DiscoveryResponse::descriptor()->full_name(),
                                                        toIndentedJson(value, "", GoEscape::ProtoJson));
    discovery::DiscoveryResponse response;
    if (!binary || !response.ParseFromString(*binary)) {
      std::string reason = binary ? "invalid protobuf" : binary.error().message;
      return fail(ErrorCode::InvalidInput,
                  fmt::format("{}: istiod {}: {}", path_, istiod, reason.substr(0, reason.find('\n'))));
    }
    out.emplace_back(istiod, std::move(response));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace mesh::cli::pc
