// GPT-2's reversible byte <-> character map: byte-level BPE vocabularies spell every byte as a printable
// code point (printable Latin-1 bytes as themselves, the rest as U+0100 onwards), so token texts never
// hold raw spaces or control bytes.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace dianoia::detail {

// The code point standing for byte b.
uint32_t byte_to_codepoint(uint8_t b);
// The byte a code point stands for, or -1 if it is not part of the map.
int byte_from_codepoint(uint32_t cp);

// Appends the byte-level spelling of raw bytes (each byte -> its character, UTF-8 encoded).
void byte_level_encode(std::string_view bytes, std::string& out);
// Appends the raw bytes a byte-level token text stands for. Characters outside the map (never present in
// a well-formed vocabulary) are copied through unchanged.
void byte_level_decode(std::string_view text, std::string& out);

}  // namespace dianoia::detail
