// `proxy-config secret`: the RESOURCE NAME / TYPE / STATUS / VALID CERT / SERIAL NUMBER /
// NOT AFTER / NOT BEFORE table of the SDS secrets in a config dump (istioctl's sdscompare),
// with a TRUST DOMAIN column and one ROOTCA row per trust domain when SPIRE-style SPIFFE
// validators hold the trust bundles; and the SecretsConfigDump as JSON or YAML.
// VALID CERT compares the certificate with the current time (passed in, for tests).
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "cli/proxy_config/config_dump.h"
#include "cli/proxy_config/output.h"

namespace mesh::cli::pc {

struct SecretItem {
  std::string name;
  std::string state;  // ACTIVE or WARMING
  std::string type;   // "CA", "Cert Chain", or "" without a certificate
  bool valid = false;
  std::string serialNumber, notAfter, notBefore;
  std::string trustDomain;
  bool fromTrustBundle = false;  // a SPIFFE validator's trust domain
};

// Warming secrets first, then active ones, in dump order.
Result<std::vector<SecretItem>> secretItems(const ConfigDumpView& dump, std::time_t now);

// namePrefix writes "secret/<name>" (proxy-config all).
Result<std::string> secretSummary(const ConfigDumpView& dump, bool namePrefix, std::time_t now);
Result<std::string> secretDump(const ConfigDumpView& dump, OutputFormat format);

}  // namespace mesh::cli::pc
