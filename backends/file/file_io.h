// File helpers of the directory backend: which names hold config, scanning a tree, and
// crash-safe writes (temporary file, fsync, rename, fsync of the directory). Any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/yaml/node.h"

namespace mesh::backends {

// A name the directory backend reads: ends .yaml, .yml or .json and does not start with '.'
// (editors' swap and lock files, our own temporary files, Kubernetes' ..data links).
bool isConfigFileName(std::string_view name);
// A path relative to the root with a component starting with '.'; such paths are ignored.
bool isHiddenPath(std::string_view rel);
// "a/b" under "a" → true; "a" under "a" → true; "ab" under "a" → false. "" holds everything.
bool isUnder(std::string_view rel, std::string_view dir);

// Config files (relative paths, sorted) under root/rel, or root/rel itself when it is one.
// Hidden entries are skipped; symlinks to files are followed, symlinks to directories are not.
std::vector<std::string> scanConfigFiles(const std::filesystem::path& root, const std::string& rel);
// Directories (relative, including rel itself) under root/rel, skipping hidden ones.
std::vector<std::string> scanDirectories(const std::filesystem::path& root, const std::string& rel);

// The whole file; NotFound when it does not exist, InvalidInput when over maxBytes.
Result<std::string> readWholeFile(const std::filesystem::path& path, size_t maxBytes);
// Replaces `path` atomically, keeping the mode of the file it replaces.
Result<void> writeFileAtomically(const std::filesystem::path& path, std::string_view content);
Result<void> removeFileDurably(const std::filesystem::path& path);

// The text of a file holding `roots`: YAML documents separated by "---", or for a .json file
// one object (a v1 List when there are several).
std::string renderFile(std::string_view rel, const std::vector<const core::Node*>& roots);

}  // namespace mesh::backends
