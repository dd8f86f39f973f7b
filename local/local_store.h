// `meshctl apply -f` and `delete -f` against the local mesh: objects go into the config
// directory meshd watches, as the file backend lays them out (backends/file/directory_store.h):
// an object already there is replaced in the file it is in; a new one gets
// <namespace>/<kind>-<name>.yaml (<kind>-<name>.yaml when cluster-scoped,
// <kind>.<group>-<name>.yaml when the short name is taken). All or nothing: every changed file
// is written to a hidden temporary name first (the backend ignores hidden files) and renamed
// into place only once all of them are written; any failure removes the temporaries and
// changes nothing. Callers validate first and hold the mesh home's lock. Blocking; one thread.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/resource.h"
#include "core/result.h"
#include "core/store/config_store.h"

namespace mesh::local {

enum class ChangeKind { Created, Configured, Unchanged, Deleted, NotFound };

struct StoreChange {
  core::ResourceKey key;
  ChangeKind kind = ChangeKind::Unchanged;
  std::string file;    // the file under the config directory (relative); "" for NotFound
  std::string source;  // the input file the object came from
};

// In the order of `resources`; a later object with the same key sees the earlier one.
Result<std::vector<StoreChange>> applyToConfigDir(const std::filesystem::path& configDir,
                                                  const std::vector<core::Resource>& resources);
// Objects absent from the directory come back as NotFound; the others are deleted.
Result<std::vector<StoreChange>> deleteFromConfigDir(const std::filesystem::path& configDir,
                                                     const std::vector<core::Resource>& resources);

}  // namespace mesh::local
