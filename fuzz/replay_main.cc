// fuzz/replay_main.cc — corpus replay driver for the fuzz targets.
//
// Links with one fuzz target (LLVMFuzzerTestOneInput) instead of libFuzzer,
// so `bazel test` replays the target's corpus with any compiler and in any
// configuration:
//
//   <target>_replay [DIR_OR_FILE...]
//
// Every regular file under each directory (not recursive) and every file
// named is run once, in name order. The test fails when an argument is
// missing, when no input was found at all (a corpus must not silently
// vanish) and, of course, when an input crashes: the target aborts with the
// invariant it saw violated, after this driver printed the input's path.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc,
                                                          char*** argv);

namespace {

bool ReadFile(const std::string& path, std::vector<uint8_t>* out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  out->clear();
  uint8_t buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) {
    out->insert(out->end(), buf, buf + n);
  }
  bool ok = !std::ferror(f);
  std::fclose(f);
  return ok;
}

// Collect appends `path` (a file) or the regular files in it (a directory).
bool Collect(const std::string& path, std::vector<std::string>* files) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "replay: %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  if (!S_ISDIR(st.st_mode)) {
    files->push_back(path);
    return true;
  }
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) {
    std::fprintf(stderr, "replay: %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  std::vector<std::string> found;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string p = path + "/" + e->d_name;
    struct stat fst;
    if (::stat(p.c_str(), &fst) == 0 && S_ISREG(fst.st_mode)) {
      found.push_back(p);
    }
  }
  ::closedir(d);
  std::sort(found.begin(), found.end());
  files->insert(files->end(), found.begin(), found.end());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!Collect(argv[i], &files)) return 2;
  }
  if (files.empty()) {
    std::fprintf(stderr, "replay: no inputs found in the corpus\n");
    return 2;
  }
  std::vector<uint8_t> data;
  for (const std::string& f : files) {
    if (!ReadFile(f, &data)) {
      std::fprintf(stderr, "replay: cannot read %s\n", f.c_str());
      return 2;
    }
    std::fprintf(stderr, "replay: %s (%zu bytes)\n", f.c_str(), data.size());
    // A copy of exactly the input's size, so ASan sees reads past its end.
    uint8_t* copy = static_cast<uint8_t*>(std::malloc(data.size() + 1));
    if (!data.empty()) std::memcpy(copy, data.data(), data.size());
    LLVMFuzzerTestOneInput(copy, data.size());
    std::free(copy);
  }
  std::fprintf(stderr, "replay: %zu inputs passed\n", files.size());
  return 0;
}
