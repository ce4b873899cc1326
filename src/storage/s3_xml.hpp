// SPDX-License-Identifier: Apache-2.0
// Just enough XML for S3's flat responses (ListObjectsV2, InitiateMultipartUpload, Error): no attributes,
// namespaces or CDATA are needed there.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vncgate::storage::xml {

// The text of the first <tag>…</tag> in `doc`, entities decoded; nullopt when absent.
std::optional<std::string> text_of(std::string_view doc, std::string_view tag);
// The raw inner XML of every <tag>…</tag> in `doc`, in order.
std::vector<std::string_view> elements(std::string_view doc, std::string_view tag);
// &amp; &lt; &gt; &quot; &apos; and numeric character references decoded.
std::string decode_entities(std::string_view text);
// & < > escaped for element text.
std::string escape(std::string_view text);

}  // namespace vncgate::storage::xml
