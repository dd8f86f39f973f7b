#include "cli/meshd_client.h"

#include <grpcpp/grpcpp.h>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "local/environment.h"
#include "local/install_state.h"
#include "local/mesh_home.h"
#include "meshd/debug/v1/debug.grpc.pb.h"

namespace mesh::cli {

struct MeshdClient::Channel {
  std::unique_ptr<debugv1::MeshDebug::Stub> stub;
};

namespace {

constexpr std::string_view kDefaultAddress = "127.0.0.1:15015";

Result<std::string> readPem(const std::string& path, std::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::Usage, fmt::format("{} {}: cannot read the file", flag, path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The local mesh's meshd debug port, when a local mesh is installed.
std::optional<std::string> localMeshdAddress() {
  auto home = local::MeshHome::resolve(local::Environment::current());
  if (!home) return std::nullopt;
  auto state = local::readState(home->statePath());
  if (!state) return std::nullopt;
  const local::ComponentState* meshd = state->find("meshd");
  if (meshd == nullptr) return std::nullopt;
  auto port = meshd->ports.find("debug");
  if (port == meshd->ports.end()) return std::nullopt;
  return fmt::format("127.0.0.1:{}", port->second);
}

}  // namespace

void addMeshdFlags(CLI::App* cmd, MeshdFlags& flags) {
  cmd->add_option("--meshd", flags.address,
                  "meshd's debug API as HOST:PORT (default: the local mesh's meshd, else 127.0.0.1:15015)")
      ->type_name("ADDR");
  cmd->add_option("--meshd-cert", flags.tlsCert, "PEM client certificate for meshd's debug API (mTLS)")
      ->type_name("PATH");
  cmd->add_option("--meshd-key", flags.tlsKey, "PEM private key of --meshd-cert")->type_name("PATH");
  cmd->add_option("--meshd-ca", flags.tlsCa, "PEM CA bundle meshd's certificate must chain to")->type_name("PATH");
}

MeshdClient::MeshdClient(std::string address, std::string origin, std::shared_ptr<Channel> channel,
                         std::chrono::milliseconds timeout)
    : address_(std::move(address)), origin_(std::move(origin)), channel_(std::move(channel)), timeout_(timeout) {}

Result<MeshdClient> MeshdClient::open(const MeshdFlags& flags) {
  std::string address = flags.address, origin = "--meshd";
  if (address.empty()) {
    if (auto local = localMeshdAddress()) {
      address = *local;
      origin = "the local mesh's meshd";
    } else {
      address = std::string(kDefaultAddress);
      origin = "the default address";
    }
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);  // an http_proxy must not route the call elsewhere
  std::shared_ptr<grpc::ChannelCredentials> creds;
  int given = !flags.tlsCert.empty() + !flags.tlsKey.empty() + !flags.tlsCa.empty();
  if (given == 0) {
    creds = grpc::InsecureChannelCredentials();
  } else if (given != 3) {
    return fail(ErrorCode::Usage, "mTLS to meshd needs all of --meshd-cert, --meshd-key and --meshd-ca");
  } else {
    grpc::SslCredentialsOptions tls;
    auto ca = readPem(flags.tlsCa, "--meshd-ca");
    if (!ca) return Failure(ca.error());
    auto cert = readPem(flags.tlsCert, "--meshd-cert");
    if (!cert) return Failure(cert.error());
    auto key = readPem(flags.tlsKey, "--meshd-key");
    if (!key) return Failure(key.error());
    tls.pem_root_certs = std::move(*ca);
    tls.pem_cert_chain = std::move(*cert);
    tls.pem_private_key = std::move(*key);
    creds = grpc::SslCredentials(tls);
  }
  auto channel = std::make_shared<Channel>();
  channel->stub = debugv1::MeshDebug::NewStub(grpc::CreateCustomChannel(address, creds, args));
  return MeshdClient(std::move(address), std::move(origin), std::move(channel), flags.timeout);
}

namespace {

template <class Response, class Call>
Result<Response> callMeshd(const MeshdClient& client, std::chrono::milliseconds timeout, std::string_view rpc,
                           Call&& call) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  Response response;
  grpc::Status status = call(ctx, response);
  if (status.ok()) return response;
  switch (status.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return fail(ErrorCode::NotFound, status.error_message());
    case grpc::StatusCode::INVALID_ARGUMENT:
      return fail(ErrorCode::Usage, status.error_message());
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return fail(ErrorCode::Unavailable,
                  fmt::format("meshd at {} ({}) did not answer {}: {}", client.address(), client.origin(), rpc,
                              status.error_message()),
                  "start the local mesh with `meshctl install --local`, or name meshd's debug API with --meshd "
                  "HOST:PORT");
    default:
      return fail(ErrorCode::Unavailable,
                  fmt::format("meshd at {} failed {}: {}", client.address(), rpc, status.error_message()));
  }
}

}  // namespace

Result<debugv1::ListProxiesResponse> MeshdClient::listProxies() const {
  return callMeshd<debugv1::ListProxiesResponse>(*this, timeout_, "ListProxies", [&](auto& ctx, auto& out) {
    return channel_->stub->ListProxies(&ctx, debugv1::ListProxiesRequest{}, &out);
  });
}

Result<envoy::admin::v3::ConfigDump> MeshdClient::configDump(const std::string& proxy) const {
  debugv1::GetConfigDumpRequest request;
  request.set_proxy(proxy);
  return callMeshd<envoy::admin::v3::ConfigDump>(*this, timeout_, "GetConfigDump", [&](auto& ctx, auto& out) {
    return channel_->stub->GetConfigDump(&ctx, request, &out);
  });
}

Result<debugv1::VersionInfo> MeshdClient::version() const {
  return callMeshd<debugv1::VersionInfo>(*this, timeout_, "GetVersion", [&](auto& ctx, auto& out) {
    return channel_->stub->GetVersion(&ctx, debugv1::GetVersionRequest{}, &out);
  });
}

Result<debugv1::Distribution> MeshdClient::distribution(const debugv1::GetDistributionRequest& request) const {
  return callMeshd<debugv1::Distribution>(*this, timeout_, "GetDistribution", [&](auto& ctx, auto& out) {
    return channel_->stub->GetDistribution(&ctx, request, &out);
  });
}

}  // namespace mesh::cli
