// DirectoryStore beyond the shared contract: what editors, tools and Kubernetes volumes do to
// files behind its back, and how its writes land on disk. Events are awaited for at most
// kWait; "nothing else happened" is shown with a sentinel file written last, whose inotify
// events queue behind everything before it.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "backends/file/directory_store.h"
#include "backends/testing/store_test_support.h"
#include "core/yaml/convert.h"

namespace mesh::backends {
namespace {

namespace fs = std::filesystem;
using namespace testing;
using core::EventType;
using core::ResourceKey;

std::unique_ptr<DirectoryStore> openStore(const TempDir& dir,
                                          DirectoryStore::Options options = {}) {
  auto store = DirectoryStore::open(dir.path(), options);
  REQUIRE(store);
  return std::move(*store);
}

std::vector<std::string> listed(const core::ConfigStore& store) {
  std::vector<std::string> out;
  auto all = store.list();
  REQUIRE(all);
  for (const auto& s : *all) out.push_back(s.key().display());
  return out;
}

// Writes a sentinel ConfigMap and waits for it: afterwards, `log` holds every earlier event.
void settle(const TempDir& dir, EventLog& log, std::string_view name = "sentinel") {
  writeFile(dir / fmt::format("zz-{}.yaml", name), sentinelObject(name));
  REQUIRE(log.waitForKey(sentinelKey(std::string(name))));
}

std::string added(std::string_view what) { return fmt::format("Added {}", what); }
constexpr std::string_view kSentinel = "Sentinel.zz.test default/sentinel";

std::string messages(const core::Diagnostics& ds) {
  std::string out;
  for (const auto& d : ds) out += d.format() + "\n";
  return out;
}

TEST_CASE(
    "directory: loads a tree; hidden paths and other extensions are ignored; bad files are "
    "diagnostics") {
  TempDir dir;
  writeFile(dir / "a.yaml", virtualService("a"));
  writeFile(dir / "prod/deep/b.yml", virtualService("b", "prod"));
  writeFile(dir / "c.json",
            R"({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})");
  writeFile(dir / ".hidden.yaml", virtualService("hidden"));
  writeFile(dir / ".git/objects.yaml", virtualService("git"));
  writeFile(dir / "a.yaml~", virtualService("backup"));
  writeFile(dir / "notes.txt", virtualService("notes"));
  writeFile(dir / "bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n");
  auto store = openStore(dir);
  CHECK(listed(*store) == std::vector<std::string>{"ConfigMap default/c",
                                                   "VirtualService.networking.istio.io default/a",
                                                   "VirtualService.networking.istio.io prod/b"});
  auto diags = store->diagnostics();
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].severity == core::Severity::Error);
  CHECK(diags[0].file == (dir / "bad.yaml").string());
  CHECK(diags[0].line > 0);
  auto b = store->get(vsKey("b", "prod"));
  REQUIRE(b);
  CHECK(b->resource.file() == (dir / "prod/deep/b.yml").string());
  CHECK(b->resource.mark().line == 1);
}

TEST_CASE("directory: external writes, edits and deletes become Added, Updated and Deleted") {
  TempDir dir;
  writeFile(dir / "a.yaml", virtualService("a", "default", "v1"));
  auto store = openStore(dir);
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);

  writeFile(dir / "b.yaml", virtualService("b"));
  REQUIRE(log.waitForKey(vsKey("b")));
  writeFile(dir / "a.yaml", virtualService("a", "default", "v2"));
  REQUIRE(log.waitFor(2));
  fs::remove(dir / "b.yaml");
  REQUIRE(log.waitFor(3));
  settle(dir, log);
  CHECK(log.summary() ==
        std::vector<std::string>{"Added VirtualService.networking.istio.io default/b",
                                 "Updated VirtualService.networking.istio.io default/a",
                                 "Deleted VirtualService.networking.istio.io default/b",
                                 added(kSentinel)});
  CHECK(firstHost(store->get(vsKey("a"))->resource) == "v2");
  CHECK(firstHost(log.events()[2].item.resource) == "reviews");  // the last known object
}

TEST_CASE("directory: rename-on-save, as editors do it, is one Updated") {
  TempDir dir;
  writeFile(dir / "vs.yaml", virtualService("vs", "default", "v1"));
  // The editors' steps below are several system calls; a long quiet period keeps them in one
  // batch even on a loaded machine (a batch split between them would be a real Deleted).
  DirectoryStore::Options options;
  options.debounce = std::chrono::milliseconds(400);
  options.maxDelay = std::chrono::seconds(4);
  auto store = openStore(dir, options);
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);

  // Write a temporary file, then rename it over the original (vim's default, atomic writers).
  writeFile(dir / "vs.yaml.tmp", virtualService("vs", "default", "v2"));
  fs::rename(dir / "vs.yaml.tmp", dir / "vs.yaml");
  REQUIRE(log.waitFor(1));
  // vim with backupcopy=no: move the original to a backup, write a new file, drop the backup;
  // emacs: a .#lock file and a ~ backup beside it.
  fs::rename(dir / "vs.yaml", dir / "vs.yaml~");
  writeFile(dir / ".#vs.yaml", "lock");
  writeFile(dir / ".vs.yaml.swp", "swap");
  writeFile(dir / "vs.yaml", virtualService("vs", "default", "v3"));
  fs::remove(dir / "vs.yaml~");
  fs::remove(dir / ".#vs.yaml");
  fs::remove(dir / ".vs.yaml.swp");
  settle(dir, log);
  auto summary = log.summary();
  CHECK(summary == std::vector<std::string>{"Updated VirtualService.networking.istio.io default/vs",
                                            "Updated VirtualService.networking.istio.io default/vs",
                                            added(kSentinel)});
  CHECK(firstHost(store->get(vsKey("vs"))->resource) == "v3");
  CHECK(store->diagnostics().empty());
}

TEST_CASE("directory: new subdirectories are watched, nested ones too, and their removal deletes") {
  TempDir dir;
  auto store = openStore(dir);
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);

  fs::create_directories(dir / "team/deeper");
  writeFile(dir / "team/deeper/x.yaml", virtualService("x"));
  REQUIRE(log.waitForKey(vsKey("x")));
  writeFile(dir / "team/deeper/more/y.yaml", virtualService("y"));
  REQUIRE(log.waitForKey(vsKey("y")));
  // A directory moved in from outside arrives with its files.
  TempDir outside;
  writeFile(outside / "pack/z.yaml", virtualService("z"));
  fs::rename(outside / "pack", dir / "pack");
  REQUIRE(log.waitForKey(vsKey("z")));

  fs::remove_all(dir / "team");
  REQUIRE(log.waitFor(5));
  settle(dir, log);
  auto summary = log.summary();
  REQUIRE(summary.size() == 6);
  // remove_all deletes in directory order; should that span two batches, the order could differ.
  std::sort(summary.begin() + 3, summary.begin() + 5);
  CHECK(summary == std::vector<std::string>{"Added VirtualService.networking.istio.io default/x",
                                            "Added VirtualService.networking.istio.io default/y",
                                            "Added VirtualService.networking.istio.io default/z",
                                            "Deleted VirtualService.networking.istio.io default/x",
                                            "Deleted VirtualService.networking.istio.io default/y",
                                            added(kSentinel)});
}

TEST_CASE("directory: a file that does not load keeps its last good objects until it does") {
  TempDir dir;
  writeFile(dir / "vs.yaml", virtualService("vs", "default", "good") + "---\n" + configMap("cm"));
  writeFile(dir / "other.yaml", virtualService("other"));
  auto store = openStore(dir);
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);
  uint64_t before = store->get(vsKey("vs"))->revision;

  // Seen mid-write: the first document complete, the second cut off.
  writeFile(dir / "vs.yaml", virtualService("vs", "default", "half") +
                                 "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: [");
  REQUIRE(eventually([&] { return core::hasErrors(store->diagnostics()); }));
  auto diags = store->diagnostics();
  CHECK(diags.size() == 2);
  CHECK(messages(diags).find("keeping the 2 object(s) last loaded") != std::string::npos);
  CHECK(firstHost(store->get(vsKey("vs"))->resource) == "good");
  CHECK(store->get(cmKey("cm")));
  // Emptied (`> vs.yaml`): still an error, still the last good objects.
  writeFile(dir / "vs.yaml", "");
  REQUIRE(eventually(
      [&] { return messages(store->diagnostics()).find("no resources") != std::string::npos; }));
  CHECK(store->get(vsKey("vs"))->revision == before);
  // A bad file never takes anything from the others.
  CHECK(store->get(vsKey("other")));

  writeFile(dir / "vs.yaml", virtualService("vs", "default", "fixed"));
  REQUIRE(log.waitFor(2));
  settle(dir, log);
  CHECK(log.summary() ==
        std::vector<std::string>{"Deleted ConfigMap default/cm",
                                 "Updated VirtualService.networking.istio.io default/vs",
                                 added(kSentinel)});
  CHECK(firstHost(store->get(vsKey("vs"))->resource) == "fixed");
  CHECK(store->diagnostics().empty());
}

TEST_CASE(
    "directory: an edit of formatting or comments only emits nothing but refreshes positions") {
  TempDir dir;
  writeFile(dir / "vs.yaml", virtualService("vs"));
  auto store = openStore(dir);
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);
  auto before = store->get(vsKey("vs"));
  REQUIRE(before);
  CHECK(before->resource.mark().line == 1);

  writeFile(dir / "vs.yaml",
            "# reviews routing\n\napiVersion:   networking.istio.io/v1\nkind: "
            "VirtualService\nmetadata: {name: vs,"
            " namespace: default}\nspec:\n    hosts: [\"reviews\"]   # same host\n");
  settle(dir, log);
  CHECK(log.summary() == std::vector<std::string>{added(kSentinel)});
  auto after = store->get(vsKey("vs"));
  REQUIRE(after);
  CHECK(after->revision == before->revision);
  CHECK(after->resource.mark().line == 3);
}

TEST_CASE(
    "directory: objects moving between files in one batch are Updated, not Deleted and Added") {
  TempDir dir;
  writeFile(dir / "a.yaml", virtualService("x") + "---\n" + virtualService("y"));
  writeFile(dir / "team/b.yaml", virtualService("z"));
  auto store = openStore(dir);
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);

  fs::rename(dir / "a.yaml", dir / "renamed.yaml");  // one rename: one batch
  REQUIRE(log.waitFor(2));
  fs::rename(dir / "team", dir / "squad");
  REQUIRE(log.waitFor(3));
  settle(dir, log);
  CHECK(log.summary() ==
        std::vector<std::string>{"Updated VirtualService.networking.istio.io default/x",
                                 "Updated VirtualService.networking.istio.io default/y",
                                 "Updated VirtualService.networking.istio.io default/z",
                                 added(kSentinel)});
  CHECK(store->get(vsKey("x"))->resource.file() == (dir / "renamed.yaml").string());
  CHECK(store->get(vsKey("z"))->resource.file() == (dir / "squad/b.yaml").string());
}

TEST_CASE(
    "directory: apply writes <namespace>/<kind>-<name>.yaml that reads back the same, without an "
    "echo") {
  TempDir dir;
  auto store = openStore(dir);
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);

  // No namespace in the document: it was read for namespace prod (kubectl -n prod).
  auto object = parseOne(
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: "
      "reviews\nspec:\n  hosts: [reviews]\n",
      "prod");
  auto applied = store->apply(object);
  REQUIRE(applied);
  fs::path file = dir / "prod/virtualservice-reviews.yaml";
  CHECK(applied->resource.file() == file.string());
  CHECK(readText(file).find("namespace: prod") != std::string::npos);
  REQUIRE(store->apply(parseOne(nsObject("prod"))));
  CHECK(fs::exists(dir / "namespace-prod.yaml"));
  settle(dir, log);
  CHECK(log.summary() ==
        std::vector<std::string>{"Added VirtualService.networking.istio.io prod/reviews",
                                 "Added Namespace prod", added(kSentinel)});
  // No temporary files left behind.
  for (const auto& e : fs::recursive_directory_iterator(dir.path()))
    CHECK(e.path().filename().string().find(".tmp.") == std::string::npos);

  DirectoryStore::Options once;
  once.watch = false;
  once.readOnly = true;
  auto fresh = openStore(dir, once);
  auto again = fresh->get(vsKey("reviews", "prod"));
  REQUIRE(again);
  CHECK(core::sameValue(again->resource.root(), applied->resource.root()));
  CHECK(fresh->diagnostics().empty());
}

TEST_CASE("directory: apply and remove rewrite a shared file in place") {
  TempDir dir;
  writeFile(dir / "mesh.yaml", virtualService("a") + "---\n" +
                                   virtualService("b", "default", "v1") + "---\n" + configMap("c"));
  writeFile(
      dir / "cm.json",
      R"({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}, "data": {"k": "1"}})");
  auto store = openStore(dir);

  REQUIRE(store->apply(parseOne(virtualService("b", "default", "v2"))));
  CHECK_FALSE(fs::exists(dir / "default"));  // no second copy in a new file
  auto rereadAll = [&] {
    DirectoryStore::Options once;
    once.watch = false;
    return listed(*openStore(dir, once));
  };
  CHECK(rereadAll() == listed(*store));
  CHECK(firstHost(store->get(vsKey("b"))->resource) == "v2");
  CHECK(store->get(vsKey("b"))->resource.file() == (dir / "mesh.yaml").string());

  REQUIRE(store->remove(vsKey("a")));
  CHECK(fs::exists(dir / "mesh.yaml"));
  CHECK(rereadAll() == std::vector<std::string>{"ConfigMap default/c", "ConfigMap default/j",
                                                "VirtualService.networking.istio.io default/b"});
  REQUIRE(store->remove(vsKey("b")));
  REQUIRE(store->remove(cmKey("c")));
  CHECK_FALSE(fs::exists(dir / "mesh.yaml"));  // the last object took the file with it

  // A JSON file stays JSON.
  REQUIRE(
      store->apply(parseOne("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: j, namespace: "
                            "default}\ndata: {k: \"2\"}\n")));
  auto json = nlohmann::json::parse(readText(dir / "cm.json"), nullptr, false);
  REQUIRE_FALSE(json.is_discarded());
  CHECK(json["data"]["k"] == "2");
  CHECK(store->diagnostics().empty());
}

TEST_CASE(
    "directory: the same object in two files: the first path wins, the other is a diagnostic") {
  TempDir dir;
  writeFile(dir / "a.yaml", virtualService("dup", "default", "from-a"));
  writeFile(dir / "b.yaml", virtualService("dup", "default", "from-b"));
  auto store = openStore(dir);
  CHECK(firstHost(store->get(vsKey("dup"))->resource) == "from-a");
  auto diags = store->diagnostics();
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].file == (dir / "b.yaml").string());
  CHECK(diags[0].message.find("a.yaml:1") != std::string::npos);

  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);
  fs::remove(dir / "a.yaml");
  REQUIRE(log.waitFor(1));
  CHECK(log.summary()[0] == "Updated VirtualService.networking.istio.io default/dup");
  CHECK(firstHost(store->get(vsKey("dup"))->resource) == "from-b");
  CHECK(store->diagnostics().empty());

  // remove() takes every definition, so the key is really gone.
  writeFile(dir / "c.yaml", virtualService("dup", "default", "from-c"));
  REQUIRE(eventually([&] { return !store->diagnostics().empty(); }));
  REQUIRE(store->remove(vsKey("dup")));
  CHECK_FALSE(store->get(vsKey("dup")));
  CHECK_FALSE(fs::exists(dir / "b.yaml"));
  CHECK_FALSE(fs::exists(dir / "c.yaml"));
}

TEST_CASE("directory: Istio's and the Gateway API's Gateway of one name get files of their own") {
  TempDir dir;
  auto store = openStore(dir);
  REQUIRE(store->apply(parseOne(
      "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: edge}\nspec: {}\n")));
  REQUIRE(
      store->apply(parseOne("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: "
                            "{name: edge}\nspec: {}\n")));
  CHECK(fs::exists(dir / "default/gateway-edge.yaml"));
  CHECK(fs::exists(dir / "default/gateway.gateway.networking.k8s.io-edge.yaml"));
  CHECK(store->list()->size() == 2);
  CHECK(store->diagnostics().empty());
}

TEST_CASE("directory: writes into a file that does not load are refused") {
  TempDir dir;
  writeFile(dir / "mesh.yaml", virtualService("a") + "---\n" + virtualService("b"));
  auto store = openStore(dir);
  writeFile(dir / "mesh.yaml", "apiVersion: [\n");
  REQUIRE(eventually([&] { return core::hasErrors(store->diagnostics()); }));
  auto applied = store->apply(parseOne(virtualService("a", "default", "new")));
  REQUIRE_FALSE(applied);
  CHECK(applied.error().code == ErrorCode::Conflict);
  CHECK(applied.error().message.find("mesh.yaml") != std::string::npos);
  auto removed = store->remove(vsKey("b"));
  REQUIRE_FALSE(removed);
  CHECK(removed.error().code == ErrorCode::Conflict);
  CHECK(readText(dir / "mesh.yaml") == "apiVersion: [\n");  // the user's edit is untouched
  CHECK(store->list()->size() == 2);
}

TEST_CASE("directory: a root moved away keeps its objects; moved back, nothing changed") {
  TempDir parent;
  fs::path root = parent / "mesh";
  writeFile(root / "vs.yaml", virtualService("vs"));
  auto opened = DirectoryStore::open(root);
  REQUIRE(opened);
  auto& store = **opened;
  EventLog log;
  auto sub = store.watch(log.callback());
  REQUIRE(sub);

  fs::rename(root, parent / "elsewhere");
  REQUIRE(eventually([&] { return core::hasErrors(store.diagnostics()); }));
  CHECK(store.diagnostics()[0].message.find("moved away") != std::string::npos);
  CHECK(store.get(vsKey("vs")));
  fs::rename(parent / "elsewhere", root);
  REQUIRE(eventually([&] { return store.diagnostics().empty(); }));
  writeFile(root / "zz.yaml", sentinelObject("sentinel"));
  REQUIRE(log.waitForKey(sentinelKey("sentinel")));
  CHECK(log.summary() == std::vector<std::string>{added(kSentinel)});
}

TEST_CASE("directory: a Kubernetes ConfigMap volume's ..data swap is an Updated") {
  TempDir dir;
  // The kubelet's AtomicWriter layout: name -> ..data/name, ..data -> ..<timestamp>.
  writeFile(dir / "..2024_01/mesh.yaml", virtualService("vs", "default", "v1"));
  fs::create_directory_symlink("..2024_01", dir / "..data");
  fs::create_symlink("..data/mesh.yaml", dir / "mesh.yaml");
  auto store = openStore(dir);
  REQUIRE(store->get(vsKey("vs")));
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);

  writeFile(dir / "..2024_02/mesh.yaml", virtualService("vs", "default", "v2"));
  fs::create_directory_symlink("..2024_02", dir / "..data_tmp");
  fs::rename(dir / "..data_tmp", dir / "..data");
  fs::remove_all(dir / "..2024_01");
  REQUIRE(log.waitFor(1));
  CHECK(log.summary()[0] == "Updated VirtualService.networking.istio.io default/vs");
  CHECK(firstHost(store->get(vsKey("vs"))->resource) == "v2");
}

TEST_CASE("directory: a root that is a symlink is followed, and its subdirectories watched") {
  TempDir parent;
  writeFile(parent / "real/team/a.yaml", virtualService("a"));
  fs::create_directory_symlink(parent / "real", parent / "link");
  auto opened = DirectoryStore::open(parent / "link");
  REQUIRE(opened);
  auto& store = **opened;
  EventLog log;
  auto sub = store.watch(log.callback());
  REQUIRE(sub);
  CHECK(store.get(vsKey("a")));
  writeFile(parent / "real/team/b.yaml", virtualService("b"));
  REQUIRE(log.waitForKey(vsKey("b")));
  CHECK(store.get(vsKey("b"))->resource.file() == (parent / "link/team/b.yaml").string());
}

TEST_CASE("directory: open() needs a directory unless asked to create it") {
  TempDir dir;
  auto missing = DirectoryStore::open(dir / "nope");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::NotFound);
  DirectoryStore::Options create;
  create.createIfMissing = true;
  auto created = DirectoryStore::open(dir / "nope/deeper/", create);
  REQUIRE(created);
  CHECK((*created)->root() == dir / "nope/deeper");
  CHECK(fs::is_directory(dir / "nope/deeper"));
}

TEST_CASE("directory: without watching, only the store's own writes change it") {
  TempDir dir;
  writeFile(dir / "a.yaml", virtualService("a"));
  DirectoryStore::Options options;
  options.watch = false;
  auto store = openStore(dir, options);
  EventLog log;
  auto sub = store->watch(log.callback());
  REQUIRE(sub);
  writeFile(dir / "b.yaml", virtualService("b"));
  REQUIRE(store->apply(parseOne(virtualService("c"))));
  REQUIRE(log.waitFor(1));
  CHECK(listed(*store) == std::vector<std::string>{"VirtualService.networking.istio.io default/a",
                                                   "VirtualService.networking.istio.io default/c"});
}

TEST_CASE("directory: destroying the store while changes are in flight is clean") {
  TempDir dir;
  for (int round = 0; round < 5; ++round) {
    auto store = openStore(dir);
    EventLog log;
    auto sub = store->watch(log.callback());
    REQUIRE(sub);
    for (int i = 0; i < 10; ++i)
      writeFile(dir / fmt::format("f{}.yaml", i),
                configMap(fmt::format("f{}", i), "default", std::to_string(round)));
    REQUIRE(store->apply(parseOne(virtualService(fmt::format("r{}", round)))));
    store.reset();  // the watcher may be mid-batch; the subscription outlives the store
  }
  CHECK(fs::exists(dir / "default/virtualservice-r4.yaml"));
}

}  // namespace
}  // namespace mesh::backends
