#include "tokenizer/unicode_norm.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

#include "core/utf8.hpp"

namespace dianoia::detail {

namespace unicode_data {
extern const char k_version[];
extern const uint64_t k_ccc[];
extern const size_t k_ccc_size;
extern const uint64_t k_decomp[];
extern const size_t k_decomp_size;
extern const uint32_t k_decomp_pool[];
extern const size_t k_decomp_pool_size;
extern const uint64_t k_compose_key[];
extern const size_t k_compose_key_size;
extern const uint32_t k_compose_to[];
extern const size_t k_compose_to_size;
extern const uint64_t k_nfc_unsafe[];
extern const size_t k_nfc_unsafe_size;
extern const uint64_t k_nfkc_unsafe[];
extern const size_t k_nfkc_unsafe_size;
extern const uint64_t k_white_space[];
extern const size_t k_white_space_size;
}  // namespace unicode_data

namespace {

namespace ud = unicode_data;

constexpr uint32_t k_mask21 = (1u << 21) - 1;
// Invalid input bytes travel through the code point buffer above the Unicode range.
constexpr uint32_t k_raw_byte = 0x200000;

// Hangul syllables are composed and decomposed by arithmetic (Unicode ch. 3.12).
constexpr uint32_t s_base = 0xAC00, l_base = 0x1100, v_base = 0x1161, t_base = 0x11A7;
constexpr uint32_t l_count = 19, v_count = 21, t_count = 28, n_count = v_count * t_count, s_count = l_count * n_count;

// Index of the entry whose low 21 bits (the first code point) is the last <= cp, or -1.
ptrdiff_t last_at_or_below(const uint64_t* table, size_t n, uint32_t cp) {
  const uint64_t* it = std::upper_bound(table, table + n, cp,
                                        [](uint32_t v, uint64_t e) { return v < static_cast<uint32_t>(e & k_mask21); });
  return (it - table) - 1;
}

// Range tables pack {first, last} as first | last << 21.
bool in_ranges(const uint64_t* table, size_t n, uint32_t cp) {
  const ptrdiff_t i = last_at_or_below(table, n, cp);
  return i >= 0 && cp <= ((table[i] >> 21) & k_mask21);
}

struct decomposition {
  const uint32_t* cps;
  uint32_t n;
};

// The full decomposition of cp (compat: NFKD's), or n == 0 if cp decomposes to itself.
decomposition decompose_one(uint32_t cp, bool compat) {
  ptrdiff_t i = last_at_or_below(ud::k_decomp, ud::k_decomp_size, cp);
  if (i < 0 || (ud::k_decomp[i] & k_mask21) != cp) return {nullptr, 0};
  // A code point has a canonical entry, a compat-only entry, or a canonical entry followed by a compat
  // one; i is the last of them.
  const auto compat_only = [](uint64_t e) { return ((e >> 42) & 1) != 0; };
  if (!compat) {
    if (compat_only(ud::k_decomp[i])) {
      if (i == 0 || (ud::k_decomp[i - 1] & k_mask21) != cp) return {nullptr, 0};
      --i;
    }
  }
  const uint64_t e = ud::k_decomp[i];
  return {ud::k_decomp_pool + ((e >> 21) & 0xFFFF), static_cast<uint32_t>((e >> 37) & 31)};
}

uint32_t compose_pair(uint32_t a, uint32_t b) {
  if (a >= l_base && a < l_base + l_count && b >= v_base && b < v_base + v_count)
    return s_base + ((a - l_base) * v_count + (b - v_base)) * t_count;
  if (a >= s_base && a < s_base + s_count && (a - s_base) % t_count == 0 && b > t_base && b < t_base + t_count)
    return a + (b - t_base);
  if (a > k_mask21 || b > k_mask21) return 0;
  const uint64_t key = static_cast<uint64_t>(a) << 21 | b;
  const uint64_t* end = ud::k_compose_key + ud::k_compose_key_size;
  const uint64_t* it = std::lower_bound(ud::k_compose_key, end, key);
  return it != end && *it == key ? ud::k_compose_to[it - ud::k_compose_key] : 0;
}

bool is_compat(normal_form f) { return f == normal_form::nfkc || f == normal_form::nfkd; }
bool is_composed(normal_form f) { return f == normal_form::nfc || f == normal_form::nfkc; }

// The BMP part of the quick-check ranges as bitmaps: CJK text would otherwise pay a binary search per
// character.
struct bmp_bitmaps {
  std::array<uint64_t, 1024> nfc{}, nfkc{};
  static void fill(std::array<uint64_t, 1024>& bits, const uint64_t* table, size_t n) {
    for (size_t i = 0; i < n; ++i)
      for (uint32_t cp = table[i] & k_mask21, last = (table[i] >> 21) & k_mask21; cp <= last && cp < 0x10000; ++cp)
        bits[cp >> 6] |= uint64_t{1} << (cp & 63);
  }
  bmp_bitmaps() {
    fill(nfc, ud::k_nfc_unsafe, ud::k_nfc_unsafe_size);
    fill(nfkc, ud::k_nfkc_unsafe, ud::k_nfkc_unsafe_size);
  }
};

const bmp_bitmaps& bitmaps() {
  static const bmp_bitmaps b;
  return b;
}

bool quick_check(const std::array<uint64_t, 1024>& bits, const uint64_t* table, size_t n, uint32_t cp) {
  return cp < 0x10000 ? (bits[cp >> 6] >> (cp & 63)) & 1 : in_ranges(table, n, cp);
}

// Could cp change under `form`, or change a neighbour? Below U+0300 nothing can, except for the
// compatibility forms (NBSP, superscripts, ...).
bool unsafe(uint32_t cp, normal_form form) {
  switch (form) {
    case normal_form::nfc:
      return cp >= 0x300 && quick_check(bitmaps().nfc, ud::k_nfc_unsafe, ud::k_nfc_unsafe_size, cp);
    case normal_form::nfkc:
      return cp >= 0xA0 && quick_check(bitmaps().nfkc, ud::k_nfkc_unsafe, ud::k_nfkc_unsafe_size, cp);
    case normal_form::nfd:
    case normal_form::nfkd:
      if (cp < (form == normal_form::nfd ? 0xC0u : 0xA0u)) return false;
      return (cp >= s_base && cp < s_base + s_count) || canonical_combining_class(cp) != 0 ||
             decompose_one(cp, form == normal_form::nfkd).n != 0;
  }
  return true;
}

}  // namespace

std::string_view unicode_tables_version() { return ud::k_version; }

bool is_white_space(uint32_t cp) { return in_ranges(ud::k_white_space, ud::k_white_space_size, cp); }

uint8_t canonical_combining_class(uint32_t cp) {
  if (cp < 0x300 || cp > k_mask21) return 0;
  const ptrdiff_t i = last_at_or_below(ud::k_ccc, ud::k_ccc_size, cp);
  if (i < 0 || cp > ((ud::k_ccc[i] >> 21) & k_mask21)) return 0;
  return static_cast<uint8_t>(ud::k_ccc[i] >> 42);
}

std::string_view unicode_normalizer::apply(std::string_view text, normal_form form, std::string& buf,
                                           std::vector<uint32_t>& cps) {
  // Quick check: ASCII bytes are skipped without decoding.
  bool needed = false;
  for (size_t i = 0; i < text.size() && !needed;) {
    if (static_cast<uint8_t>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const int32_t cp = utf8_decode(text, i);
    needed = cp >= 0 && unsafe(static_cast<uint32_t>(cp), form);
  }
  if (!needed) return text;

  // Decompose.
  const bool compat = is_compat(form);
  cps.clear();
  for (size_t i = 0; i < text.size();) {
    const size_t start = i;
    const int32_t c = utf8_decode(text, i);
    if (c < 0) {
      cps.push_back(k_raw_byte | static_cast<uint8_t>(text[start]));
      continue;
    }
    const auto cp = static_cast<uint32_t>(c);
    if (cp >= s_base && cp < s_base + s_count) {
      const uint32_t s = cp - s_base;
      cps.push_back(l_base + s / n_count);
      cps.push_back(v_base + (s % n_count) / t_count);
      if (s % t_count) cps.push_back(t_base + s % t_count);
      continue;
    }
    const decomposition d = cp < 0xA0 ? decomposition{nullptr, 0} : decompose_one(cp, compat);
    if (d.n == 0)
      cps.push_back(cp);
    else
      cps.insert(cps.end(), d.cps, d.cps + d.n);
  }

  // Each entry becomes cp | ccc << 24 (code points and raw-byte marks fit in 22 bits), so that ordering
  // and composition read the class without another table search.
  for (uint32_t& c : cps) c |= static_cast<uint32_t>(canonical_combining_class(c)) << 24;
  const auto cls = [](uint32_t e) { return static_cast<int>(e >> 24); };
  const auto cp_of = [](uint32_t e) { return e & 0xFFFFFF; };

  // Canonical ordering: a stable sort of each run of non-starters by class. std::stable_sort keeps a
  // hostile run of many thousands of marks O(n log n).
  for (size_t i = 0; i < cps.size();) {
    if (cls(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < cps.size() && cls(cps[j]) != 0) ++j;
    if (j - i > 1)
      std::stable_sort(cps.begin() + static_cast<ptrdiff_t>(i), cps.begin() + static_cast<ptrdiff_t>(j),
                       [&](uint32_t a, uint32_t b) { return cls(a) < cls(b); });
    i = j;
  }

  // Canonical composition: a character joins the last starter unless a character in between is a
  // starter or has a class >= its own (blocked).
  if (is_composed(form) && !cps.empty()) {
    size_t starter = 0, w = 1;
    int last_class = cls(cps[0]) == 0 ? 0 : 256;
    for (size_t r = 1; r < cps.size(); ++r) {
      const uint32_t e = cps[r];
      const int cc = cls(e);
      if (last_class < cc || last_class == 0) {
        if (const uint32_t composite = compose_pair(cp_of(cps[starter]), cp_of(e))) {
          // A composite is a starter (class 0): composition exclusions keep non-starter results out.
          cps[starter] = composite;
          continue;
        }
      }
      if (cc == 0) starter = w;
      last_class = cc;
      cps[w++] = e;
    }
    cps.resize(w);
  }

  buf.clear();
  buf.reserve(text.size() + text.size() / 2);
  for (uint32_t e : cps) {
    const uint32_t c = cp_of(e);
    if (c & k_raw_byte)
      buf += static_cast<char>(c & 0xFF);
    else
      utf8_append(buf, c);
  }
  return buf;
}

}  // namespace dianoia::detail
