#include "proxy/security/ca_client.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include <fstream>

#include "istio/security/v1alpha1/ca.grpc.pb.h"
#include "proxy/security/workload_csr.h"

namespace mesh::proxy::security {
namespace {

constexpr size_t kMaxFileBytes = 1024 * 1024;
constexpr size_t kMaxChainCertificates = 16;

Result<std::string> readFile(std::string_view what, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::Io, fmt::format("{} {}: cannot read the file", what, path));
  std::string body(kMaxFileBytes + 1, '\0');
  in.read(body.data(), static_cast<std::streamsize>(body.size()));
  body.resize(static_cast<size_t>(in.gcount()));
  if (body.size() > kMaxFileBytes) return fail(ErrorCode::InvalidInput, fmt::format("{} {}: too large", what, path));
  return body;
}

std::string trimmed(std::string text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  size_t end = text.find_last_not_of(" \t\r\n");
  std::string out = begin == std::string::npos ? std::string() : text.substr(begin, end - begin + 1);
  wipe(text);
  return out;
}

}  // namespace

WorkloadCertificate::~WorkloadCertificate() { wipe(privateKeyPem); }

CaClient::CaClient(CaClientOptions options) : options_(std::move(options)) {}

Result<std::shared_ptr<const WorkloadCertificate>> CaClient::fetch(const WorkloadCertificate* current) const {
  if (options_.rootCertFile.empty())
    return fail(ErrorCode::Usage, "the CA's root certificate file is required: the CA is never trusted on first use");
  auto root = readFile("root certificate", options_.rootCertFile);
  if (!root) return Failure(root.error());
  if (root->find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return fail(ErrorCode::InvalidInput,
                fmt::format("root certificate {}: not a PEM certificate", options_.rootCertFile));

  std::string renewalError;
  if (current && current->expiry > std::chrono::system_clock::now() + std::chrono::seconds(5)) {
    auto renewed = call(*root, current, nullptr);
    if (renewed || options_.tokenFile.empty()) return renewed;
    renewalError = renewed.error().message;
  }
  if (options_.tokenFile.empty()) return fail(ErrorCode::Usage, "no token file and no valid certificate to renew with");
  auto tokenText = readFile("token", options_.tokenFile);
  if (!tokenText) return Failure(tokenText.error());
  std::string token = trimmed(std::move(*tokenText));
  if (token.empty())
    return fail(ErrorCode::InvalidInput, fmt::format("token {}: the file is empty", options_.tokenFile));
  auto issued = call(*root, nullptr, &token);
  wipe(token);
  if (!issued && !renewalError.empty())
    return fail(issued.error().code, fmt::format("{} (renewing with the current certificate first: {})",
                                                 issued.error().message, renewalError));
  return issued;
}

Result<std::shared_ptr<const WorkloadCertificate>> CaClient::call(const std::string& root,
                                                                  const WorkloadCertificate* clientCert,
                                                                  const std::string* token) const {
  std::string uri = spiffeUri(options_.trustDomain, options_.ns, options_.serviceAccount);
  auto keyAndCsr = generateKeyAndCsr(uri);
  if (!keyAndCsr) return Failure(keyAndCsr.error());

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = root;
  if (clientCert) {
    ssl.pem_cert_chain = clientCert->certChainPem;
    ssl.pem_private_key = clientCert->privateKeyPem;
  }
  grpc::ChannelArguments args;
  if (!options_.serverName.empty()) args.SetSslTargetNameOverride(options_.serverName);
  auto channel = grpc::CreateCustomChannel(options_.address, grpc::SslCredentials(ssl), args);
  wipe(ssl.pem_private_key);
  auto stub = istio::v1::auth::IstioCertificateService::NewStub(channel);

  istio::v1::auth::IstioCertificateRequest request;
  request.set_csr(keyAndCsr->csrPem);
  request.set_validity_duration(options_.requestedValidity.count());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + options_.callTimeout);
  if (token) context.AddMetadata("authorization", "Bearer " + *token);
  istio::v1::auth::IstioCertificateResponse response;
  grpc::Status status = stub->CreateCertificate(&context, request, &response);
  if (!status.ok()) {
    wipe(keyAndCsr->privateKeyPem);
    ErrorCode code = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                             status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                         ? ErrorCode::Unavailable
                         : ErrorCode::InvalidInput;
    return fail(code, fmt::format("CreateCertificate at {} ({}): {}", options_.address,
                                  clientCert ? "renewal by certificate" : "token", status.error_message()));
  }
  if (response.cert_chain_size() == 0 || static_cast<size_t>(response.cert_chain_size()) > kMaxChainCertificates) {
    wipe(keyAndCsr->privateKeyPem);
    return fail(ErrorCode::InvalidInput,
                fmt::format("the CA at {} sent {} certificates", options_.address, response.cert_chain_size()));
  }
  std::vector<std::string> chain(response.cert_chain().begin(), response.cert_chain().end());
  auto checked = checkIssuedChain(chain, keyAndCsr->privateKeyPem, root, uri);
  if (!checked) {
    wipe(keyAndCsr->privateKeyPem);
    return fail(checked.error().code, fmt::format("the CA at {}: {}", options_.address, checked.error().message));
  }
  auto out = std::make_shared<WorkloadCertificate>();
  // The leaf and its intermediates; the root travels separately (Envoy's ROOTCA), as Istio does.
  size_t leafAndIntermediates = chain.size() > 1 && chain.back() == root ? chain.size() - 1 : chain.size();
  for (size_t i = 0; i < leafAndIntermediates; ++i) {
    out->certChainPem += chain[i];
    if (!chain[i].empty() && chain[i].back() != '\n') out->certChainPem += '\n';
  }
  out->privateKeyPem = std::move(keyAndCsr->privateKeyPem);
  out->rootPem = root;
  out->identity = uri;
  out->issuedAt = std::chrono::system_clock::now();
  out->expiry = checked->notAfter;
  return std::shared_ptr<const WorkloadCertificate>(std::move(out));
}

}  // namespace mesh::proxy::security
