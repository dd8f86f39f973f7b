#include <fmt/format.h>

#include "core/validation/fields.h"
#include "core/validation/istio_rules.h"

namespace mesh::core::validation {

void checkServerTls(const Node* tls, const std::string& path, ValidationContext& ctx) {
  if (!isMap(tls)) return;
  // The proto's default mode is PASSTHROUGH (enum value 0).
  std::string_view mode = text(tls, "mode");
  if (mode.empty()) mode = "PASSTHROUGH";
  bool cert = isSet(tls, "serverCertificate"), key = isSet(tls, "privateKey"), ca = isSet(tls, "caCertificates");
  bool credential = isSet(tls, "credentialName") || isSet(tls, "credentialNames") || isSet(tls, "tlsCertificates");
  bool crl = isSet(tls, "caCrl");
  if (mode == "ISTIO_MUTUAL") {
    // Istio's own certificates are used; user-provided ones would be ignored.
    for (std::string_view f : {"serverCertificate", "privateKey", "caCertificates", "credentialName"})
      if (isSet(tls, f)) ctx.error(field(tls, f), sub(path, f), fmt::format("ISTIO_MUTUAL mode cannot have {}", f));
    return;
  }
  if (mode == "PASSTHROUGH" || mode == "AUTO_PASSTHROUGH") {
    if (cert || key || ca || credential || crl)
      ctx.warning(tls, path, fmt::format("{} mode does not use certificates, they will be ignored", mode));
    return;
  }
  if (crl) {
    if (credential)
      ctx.error(field(tls, "caCrl"), sub(path, "caCrl"),
                "caCrl cannot be used with credentialName: put the CRL in the credential");
    else if (mode == "SIMPLE")
      ctx.error(field(tls, "caCrl"), sub(path, "caCrl"), "caCrl is not supported with SIMPLE mode");
  }
  if (credential) return;  // certificates come from the credential (SDS)
  if (mode == "SIMPLE" && (!cert || !key))
    ctx.error(tls, path, "SIMPLE mode requires serverCertificate and privateKey, or credentialName");
  if ((mode == "MUTUAL" || mode == "OPTIONAL_MUTUAL") && (!cert || !key || !ca))
    ctx.error(tls, path,
              fmt::format("{} mode requires serverCertificate, privateKey and caCertificates, or credentialName", mode));
}

void checkClientTls(const Node* tls, const std::string& path, ValidationContext& ctx) {
  if (!isMap(tls)) return;
  std::string_view mode = text(tls, "mode");
  const Node* skip = field(tls, "insecureSkipVerify");
  bool insecure = skip && skip->asBool().value_or(false);
  bool ca = isSet(tls, "caCertificates"), credential = isSet(tls, "credentialName");
  bool sans = field(tls, "subjectAltNames") != nullptr;
  if (insecure && mode == "SIMPLE" && (ca || credential || sans))
    ctx.error(skip, sub(path, "insecureSkipVerify"),
              "insecureSkipVerify cannot be combined with caCertificates, credentialName or subjectAltNames");
  if (insecure && mode == "MUTUAL" && (ca || sans))
    ctx.error(skip, sub(path, "insecureSkipVerify"),
              "insecureSkipVerify cannot be combined with caCertificates or subjectAltNames");
  if ((mode == "SIMPLE" || mode == "MUTUAL") && credential) {
    for (std::string_view f : {"clientCertificate", "privateKey", "caCertificates", "caCrl"})
      if (isSet(tls, f))
        ctx.error(field(tls, f), sub(path, f), fmt::format("{} cannot be set together with credentialName", f));
    return;
  }
  if (mode == "MUTUAL" && (!isSet(tls, "clientCertificate") || !isSet(tls, "privateKey")))
    ctx.error(tls, path, "MUTUAL mode requires clientCertificate and privateKey, or credentialName");
}

}  // namespace mesh::core::validation
