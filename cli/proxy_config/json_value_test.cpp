#include "cli/proxy_config/json_value.h"

#include <doctest/doctest.h>

#include "cli/proxy_config/go_format.h"

using namespace mesh::cli::pc;

TEST_CASE("indented JSON looks like Go's json.MarshalIndent") {
  auto v = parseJson(R"({"a":[1,{"b":{}}],"c":[],"d":"x","e":1.50})");
  REQUIRE(v.has_value());
  CHECK(toIndentedJson(*v, "    ", GoEscape::EncodingJson) ==
        "{\n    \"a\": [\n        1,\n        {\n            \"b\": {}\n        }\n    ],\n    \"c\": [],\n"
        "    \"d\": \"x\",\n    \"e\": 1.50\n}");
}

TEST_CASE("Go string escaping differs between encoding/json and protojson") {
  CHECK(goQuote("<a&b>", GoEscape::EncodingJson) == R"("\u003ca\u0026b\u003e")");
  CHECK(goQuote("<a&b>", GoEscape::ProtoJson) == R"("<a&b>")");
  CHECK(goQuote("\x7f\t\"\\", GoEscape::ProtoJson) == R"("\u007f\t\"\\")");
  CHECK(goQuote("\x7f", GoEscape::EncodingJson) == "\"\x7f\"");
  CHECK(goQuote("\xe2\x80\xa8", GoEscape::EncodingJson) == R"("\u2028")");
  CHECK(goQuote("bad\xff", GoEscape::EncodingJson) == R"("bad\ufffd")");
  CHECK(goQuote("é", GoEscape::EncodingJson) == "\"é\"");
}

TEST_CASE("floats print in Go's shortest JSON form") {
  CHECK(goJsonFloat(0.1, 64) == "0.1");
  CHECK(goJsonFloat(100, 64) == "100");
  CHECK(goJsonFloat(1e-7, 64) == "1e-7");
  CHECK(goJsonFloat(1e21, 64) == "1e+21");
  CHECK(goJsonFloat(0.1f, 32) == "0.1");
  CHECK(goFormatG(1e6) == "1e+06");
  CHECK(goFormatG(123456) == "123456");
  CHECK(goFormatG(0.0001) == "0.0001");
  CHECK(goFormatG(0.00001) == "1e-05");
}

TEST_CASE("base64 pads like Go's StdEncoding") {
  CHECK(base64Encode("") == "");
  CHECK(base64Encode("f") == "Zg==");
  CHECK(base64Encode("fo") == "Zm8=");
  CHECK(base64Encode("foo") == "Zm9v");
}

TEST_CASE("parseJson keeps member order and number text, and reports errors") {
  auto v = parseJson(R"({"z":1,"a":2.50})");
  REQUIRE(v.has_value());
  CHECK(v->members[0].first == "z");
  CHECK(v->find("a")->text == "2.50");
  CHECK_FALSE(parseJson("{").has_value());
}
