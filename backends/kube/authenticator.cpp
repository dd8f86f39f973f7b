#include "backends/kube/authenticator.h"

#include <fmt/format.h>

#include "backends/file/file_io.h"

namespace mesh::backends::kube {
namespace {

constexpr auto kTokenFileRefresh = std::chrono::minutes(1);

std::string trimToken(std::string_view s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return std::string(s);
}

}  // namespace

Authenticator::Authenticator(const RestConfig& config, ExecOptions execOptions)
    : staticToken_(config.token),
      tokenFile_(config.tokenFile),
      certPem_(config.clientCertPem),
      keyPem_(config.clientKeyPem) {
  if (config.exec)
    exec_ = std::make_unique<ExecCredentialPlugin>(
        *config.exec,
        ExecClusterInfo{.server = config.server,
                        .caPem = config.caPem,
                        .insecureSkipTlsVerify = config.insecureSkipTlsVerify,
                        .tlsServerName = config.tlsServerName},
        execOptions);
}

Result<std::string> Authenticator::tokenFromFile() {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (fileRead_ && now - fileReadAt_ < kTokenFileRefresh) return fileToken_;
  auto content = readWholeFile(tokenFile_, 1u << 20);
  if (!content) {
    // A rotation in progress may briefly remove the file: keep the last good token if any.
    if (fileRead_) return fileToken_;
    return fail(ErrorCode::Io, fmt::format("cannot read the token file {}: {}", tokenFile_,
                                           content.error().message));
  }
  fileToken_ = trimToken(*content);
  fileReadAt_ = now;
  fileRead_ = true;
  return fileToken_;
}

Result<Credentials> Authenticator::credentials() {
  Credentials c;
  c.clientCertPem = certPem_;
  c.clientKeyPem = keyPem_;
  // rest.Config: the token file's last good value wins over the static token.
  if (!tokenFile_.empty()) {
    auto t = tokenFromFile();
    if (!t) return Failure(t.error());
    c.token = std::move(*t);
  }
  if (c.token.empty()) c.token = staticToken_;
  if (exec_ && (c.token.empty() || c.clientCertPem.empty())) {
    bool needToken = c.token.empty();
    bool needCert = c.clientCertPem.empty();
    auto cred = exec_->get();
    if (!cred) return Failure(cred.error());
    if (needToken) c.token = cred->token;
    if (needCert) {
      c.clientCertPem = cred->clientCertPem;
      c.clientKeyPem = cred->clientKeyPem;
    }
  }
  return c;
}

bool Authenticator::refreshAfterUnauthorized(const Credentials& used) {
  bool changed = false;
  if (!tokenFile_.empty()) {
    std::lock_guard lock(mu_);
    fileRead_ = false;  // re-read now rather than within a minute
    changed = true;
  }
  if (exec_) {
    exec_->invalidate(ExecCredential{.token = used.token,
                                     .clientCertPem = used.clientCertPem,
                                     .clientKeyPem = used.clientKeyPem,
                                     .expiry = std::nullopt});
    changed = true;
  }
  return changed;
}

}  // namespace mesh::backends::kube
