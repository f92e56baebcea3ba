//===- Target.cpp - the registry of code generation targets ---------------===//

#include "kiln/Target/Target.h"

#include "llvm/ADT/StringMap.h"

#include <algorithm>
#include <mutex>

using namespace kiln;

Target::~Target() = default;

namespace {
struct Registry {
  std::mutex mutex;
  llvm::StringMap<std::unique_ptr<Target>> targets;
};
} // namespace

static Registry &registry() {
  static Registry instance;
  return instance;
}

void kiln::registerTarget(std::unique_ptr<Target> target) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::string name = target->getName().str();
  r.targets.try_emplace(name, std::move(target));
}

const Target *kiln::lookupTarget(llvm::StringRef name) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.targets.find(name);
  return it == r.targets.end() ? nullptr : it->second.get();
}

std::vector<std::string> kiln::getRegisteredTargetNames() {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (const auto &entry : r.targets)
    names.push_back(entry.getKey().str());
  std::sort(names.begin(), names.end());
  return names;
}
