#include "controlplane/ca/ca_routes.h"

namespace mesh::ca {

Result<void> addCaRoutes(monitoring::RouteTable& routes, const CertificateAuthority& ca) {
  return routes.add(std::string(kRootCertPath), [&ca](const monitoring::HttpRequest&) {
    monitoring::HttpResponse response = monitoring::HttpResponse::text(200, ca.rootPem());
    response.contentType = "application/x-pem-file";
    return response;
  });
}

}  // namespace mesh::ca
