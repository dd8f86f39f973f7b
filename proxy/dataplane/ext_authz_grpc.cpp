#include "proxy/dataplane/ext_authz_grpc.h"

#include "proxy/dataplane/asio_includes.h"

#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>

#include <chrono>
#include <ctime>

#include <nlohmann/json.hpp>

#include "proxy/dataplane/engine.h"
#include "proxy/dataplane/http_stream.h"
#include "proxy/dataplane/upstream.h"
#include "proxy/telemetry/response_flags.h"
#include "proxy/xds/envoy_types.h"

namespace mesh::proxy::dataplane {

namespace {

namespace gp = google::protobuf;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr std::string_view kCheckPath = "/envoy.service.auth.v3.Authorization/Check";
constexpr std::string_view kCheckRequestType = "type.googleapis.com/envoy.service.auth.v3.CheckRequest";
constexpr std::string_view kCheckResponseType = "type.googleapis.com/envoy.service.auth.v3.CheckResponse";
constexpr size_t kMaxCheckResponse = 64 * 1024;
constexpr int kGrpcOk = 0;

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string rfc3339Now() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool listed(const std::vector<StringMatch>& list, std::string_view name) {
  for (const auto& m : list) {
    if (m.matches(name)) return true;
  }
  return false;
}

json peer(const std::string& address, uint32_t port, const std::string& principal) {
  json p = json::object();
  if (!address.empty()) p["address"]["socketAddress"] = {{"address", address}, {"portValue", port}};
  if (!principal.empty()) p["principal"] = principal;
  return p;
}

// AttributeContext as Envoy's CheckRequestUtils fills it for an HTTP request.
json checkRequest(const ExtAuthzConfig& config, const RequestHead& request, std::string_view body, bool partial,
                  DownstreamStream& stream) {
  const ConnectionInfo& info = stream.connection().info;
  json headers = json::object();
  auto keep = [&config](std::string_view name) {
    if (listed(config.disallowedHeaders, name)) return false;
    return config.allowedHeaders.empty() || listed(config.allowedHeaders, name);
  };
  for (const auto& [name, value] : request.headers.entries()) {
    if (!keep(name)) continue;
    auto it = headers.find(name);
    if (it == headers.end()) headers[name] = value;
    else *it = it->get<std::string>() + "," + value;  // Envoy joins repeated headers
  }
  headers[":authority"] = request.authority;
  headers[":method"] = request.method;
  headers[":path"] = request.path;
  headers[":scheme"] = request.scheme;
  json http = {{"method", request.method},     {"headers", std::move(headers)}, {"path", request.path},
               {"host", request.authority},    {"scheme", request.scheme},      {"protocol", std::string(stream.protocol())}};
  if (auto id = request.headers.get("x-request-id")) http["id"] = std::string(*id);
  if (auto length = request.headers.get("content-length")) {
    http["size"] = std::string(*length);
  } else {
    http["size"] = std::to_string(body.size());
  }
  if (config.withBody) {
    if (config.packAsBytes) {
      http["rawBody"] = base64(body);
    } else {
      http["body"] = std::string(body);
    }
    http["headers"]["x-envoy-auth-partial-body"] = partial ? "true" : "false";
  }
  json attributes = {{"source", peer(info.sourceAddress, info.sourcePort, info.peerPrincipal)},
                     {"destination", peer(info.destinationAddress, info.destinationPort, "")},
                     {"request", {{"time", rfc3339Now()}, {"http", std::move(http)}}}};
  return json{{"attributes", std::move(attributes)}};
}

json tcpCheckRequest(const ConnectionInfo& info, const std::string& localPrincipal) {
  json attributes = {{"source", peer(info.sourceAddress, info.sourcePort, info.peerPrincipal)},
                     {"destination", peer(info.destinationAddress, info.destinationPort, localPrincipal)}};
  return json{{"attributes", std::move(attributes)}};
}

// HeaderValueOptions of a CheckResponse: {"header": {"key", "value"}, "append": bool}.
template <class Fn>
void eachHeader(const json& list, Fn&& fn) {
  if (!list.is_array()) return;
  for (const auto& h : list) {
    const json& header = h.value("header", json::object());
    std::string key = header.value("key", "");
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key.empty() || key.front() == ':' || key == "host") continue;
    fn(key, header.value("value", ""), h.value("append", false));
  }
}

// Authorization/Check with `request` (a CheckRequest as JSON) over the cluster's h2c: the
// CheckResponse as JSON, or nullopt when the call failed (no host, transport, gRPC status, size).
asio::awaitable<std::optional<json>> callCheck(Engine& engine, Worker& worker, const ExtAuthzConfig& config,
                                               const json& request) {
  const auto& types = EnvoyTypes::instance();
  std::string message;
  std::string text = request.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!gp::util::JsonToBinaryString(&types.resolver(), std::string(kCheckRequestType), text, &message).ok()) {
    co_return std::nullopt;
  }
  std::string framed(5, '\0');
  for (int i = 0; i < 4; ++i) framed[1 + i] = static_cast<char>((message.size() >> (8 * (3 - i))) & 0xff);
  framed += message;

  RequestHead call;
  call.method = "POST";
  call.path = std::string(kCheckPath);
  call.authority = config.grpcAuthority;
  call.headers.add("content-type", "application/grpc");
  call.headers.add("te", "trailers");
  call.headers.add("grpc-timeout", std::to_string(config.timeout.count()) + "m");
  for (const auto& [name, value] : config.headersToAdd) call.headers.set(name, value);

  auto active = engine.active();
  ClusterRuntime* runtime = active->cluster(config.cluster);
  if (runtime == nullptr) co_return std::nullopt;
  auto cluster = runtime->config();
  if (!cluster->http2) co_return std::nullopt;  // gRPC needs the cluster's h2c
  auto host = runtime->chooseHost({});
  if (!host) co_return std::nullopt;
  auto deadline = Clock::now() + config.timeout;
  UpstreamExchange ex = co_await exchangeHead(worker, *runtime, *cluster, *host, call, framed, framed.size(), deadline);
  if (ex.failure != UpstreamFailure::None) co_return std::nullopt;
  UpstreamResponse& response = *ex.response;
  std::string answer;
  {
    Deadline guard(worker.ioc, deadline, [&response] { response.abandon(); });
    answer = response.takeBody();
    while (!response.complete() && answer.size() <= kMaxCheckResponse) {
      bool more = co_await response.readMore();
      answer += response.takeBody();
      if (!more) break;
    }
  }
  if (!response.complete() || answer.size() > kMaxCheckResponse || response.head().status != 200) {
    response.abandon();
    co_return std::nullopt;
  }
  response.finish();
  // The call's own status: trailers, or the head of a trailers-only answer.
  const HeaderMap* trailers = response.trailers();
  auto grpcStatus = trailers != nullptr ? trailers->get("grpc-status") : std::nullopt;
  if (!grpcStatus) grpcStatus = response.head().headers.get("grpc-status");
  if (!grpcStatus || *grpcStatus != "0" || answer.size() < 5 || answer[0] != 0) co_return std::nullopt;
  size_t length = 0;
  for (int i = 1; i < 5; ++i) length = (length << 8) | static_cast<unsigned char>(answer[static_cast<size_t>(i)]);
  if (length != answer.size() - 5) co_return std::nullopt;
  std::string responseJson;
  gp::util::JsonPrintOptions options;
  options.always_print_enums_as_ints = true;
  if (!gp::util::BinaryToJsonString(&types.resolver(), std::string(kCheckResponseType), answer.substr(5),
                                    &responseJson, options)
           .ok()) {
    co_return std::nullopt;
  }
  json check = json::parse(responseJson, nullptr, false);
  if (check.is_discarded()) co_return std::nullopt;
  co_return check;
}

}  // namespace

asio::awaitable<std::optional<bool>> grpcCheckConnection(Engine& engine, Worker& worker, const ExtAuthzConfig& config,
                                                         const ConnectionInfo& info,
                                                         const std::string& localPrincipal) {
  // Envoy's CheckRequestUtils::createTcpCheck: the two peers, no request attributes.
  std::optional<json> check = co_await callCheck(engine, worker, config, tcpCheckRequest(info, localPrincipal));
  if (!check) co_return std::nullopt;
  int code = check->contains("status") ? (*check)["status"].value("code", 0) : 0;
  co_return code == kGrpcOk;
}

asio::awaitable<std::optional<SecurityVerdict>> grpcCheck(Engine& engine, Worker& worker, const ExtAuthzConfig& config,
                                                          RequestHead& request, std::string_view body, bool partialBody,
                                                          DownstreamStream& stream) {
  std::optional<json> answer = co_await callCheck(engine, worker, config,
                                                  checkRequest(config, request, body, partialBody, stream));
  if (!answer) co_return std::nullopt;
  const json& check = *answer;

  int code = check.contains("status") ? check["status"].value("code", 0) : 0;
  if (code == kGrpcOk) {
    const json& ok = check.value("okResponse", json::object());
    eachHeader(ok.value("headers", json::array()), [&request](const std::string& k, const std::string& v, bool append) {
      if (append) request.headers.add(k, v);
      else request.headers.set(k, v);
    });
    for (const auto& name : ok.value("headersToRemove", json::array())) {
      if (!name.is_string()) continue;
      std::string n = name.get<std::string>();
      for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!n.empty() && n.front() != ':' && n != "host") request.headers.remove(n);
    }
    co_return SecurityVerdict{};
  }
  SecurityVerdict denied;
  denied.kind = SecurityVerdict::Kind::LocalReply;
  denied.status = 403;
  denied.details = "ext_authz_denied";
  denied.responseFlags = telemetry::kUnauthorizedExternalService;
  const json& d = check.value("deniedResponse", json::object());
  if (d.contains("status")) {
    int status = d["status"].value("code", 0);
    if (status >= 200 && status <= 599) denied.status = static_cast<unsigned>(status);
  }
  denied.body = d.value("body", "");
  eachHeader(d.value("headers", json::array()), [&denied](const std::string& k, const std::string& v, bool append) {
    if (k == "content-length" || k == "transfer-encoding" || k == "connection") return;
    if (append) denied.headers.add(k, v);
    else denied.headers.set(k, v);
  });
  co_return denied;
}

}  // namespace mesh::proxy::dataplane
