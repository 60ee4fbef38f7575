#!/usr/bin/env python3
"""Writes the seeds of the targets that read their input with libFuzzer's FuzzedDataProvider (router,
enroll, ical, credentials, range), which takes strings from the front of the input (each ended by a
backslash and another character; a doubled backslash is one) and numbers and booleans from the back.
Run by hand when a target's way of reading changes; the output is committed."""
import os

os.chdir(os.path.dirname(os.path.abspath(__file__)))


class Seed:
    def __init__(self):
        self.front = b""
        self.back = b""  # in the order they are consumed (the last byte of the input first)

    def string(self, s):
        s = s.encode() if isinstance(s, str) else s
        self.front += s.replace(b"\\", b"\\\\") + b"\\;"
        return self

    def byte(self, v):
        self.back += bytes([v])
        return self

    def flag(self, b):
        return self.byte(1 if b else 0)

    def write(self, path, rest=b""):
        rest = rest.encode() if isinstance(rest, str) else rest
        with open(path, "wb") as f:
            f.write(self.front + rest + self.back[::-1])


METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
HEADERS = ["Host", "Origin", "Sec-Fetch-Site", "Content-Type", "Authorization", "Cookie", "Tus-Resumable",
           "Range", "If-Range", "Upload-Metadata", "Upload-Checksum", "Upload-Offset", "Upload-Length",
           "If-None-Match", "Content-Length"]


def request(path, method, route, params, query, headers, body):
    s = Seed().flag(True).byte(METHODS.index(method)).flag(True).byte(route)
    for p in params:
        s.string(p)
    s.flag(query is not None)
    if query is not None:
        s.string(query)
    s.byte(len(headers))
    for name, value in headers:
        s.flag(True).byte(HEADERS.index(name)).string(value)
    s.write(path, body)


unit = ("Authorization", "Bearer ct_8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d")
cookie = ("Cookie", "__Host-classcam_session=cs_3f1c0a9e8b7d6c5b4a39")
json = ("Content-Type", "application/json")
# Route numbers are positions in docs/hub-api.md's headings (router_fuzz registers them in that order).
request("router/health", "GET", 0, [], None, [("Host", "hub.school.example")], "")
request("router/login", "POST", 1, [], None, [json, ("Origin", "https://hub.school.example"),
        ("Host", "hub.school.example")], '{"login":"teacher","password":"correct horse battery"}')
request("router/comment", "POST", 62, ["0b6f7e52-6a0c-4a43-9f1d-2a7c1f0e5b11"], None, [cookie, json,
        ("Sec-Fetch-Site", "same-origin")], '{"offset_ms":1500,"text":"good questioning"}')
request("router/segment", "GET", 57, ["0b6f7e52", "3"], "download=1", [cookie, ("Range", "bytes=0-1023")], "")
request("router/upload-patch", "PATCH", 48, ["u-123"], None, [unit, ("Tus-Resumable", "1.0.0"),
        ("Upload-Offset", "0"), ("Content-Type", "application/offset+octet-stream"),
        ("Upload-Checksum", "sha1 L3ADbB0p5P2RLEjYhC7wT4DSPbg=")], "chunk")
request("router/audit", "GET", 69, [], "action=recording.view&target_id=a%20b", [cookie], "")
request("router/session", "PUT", 43, ["s-2026-09-21-0800"], None, [unit, json], '{"session_id":"s-2026-09-21-0800"}')

code = "7KQ2M-XH4TD-0B9ZC-RW31P-Y8NFG-6JS2A"
body = '{"code":"%s","hostname":"classcam-room12","software_version":"0.1.0"}' % code
Seed().string(code).flag(True).write("enroll/request", body)
Seed().string("7kq2m xh4td 0b9zc rw31p y8nfg 6js2a").flag(True).write("enroll/sloppy", body)
Seed().string("7KQ2M-XH4TD").flag(False).string("text/plain").write("enroll/short", "code=7KQ2M")

s = Seed().string("Room 12; maths, science").byte(2)
s.string("Year 8 maths: fractions, ratios; group work").string("Room 12").string("Line one\nline two, \\ three")
s.flag(True)
s.string("Observation \u00e9t\u00e9 \u2014 " + "long title " * 8).string("").string("").flag(False)
s.write("ical/two-events")

Seed().flag(True).write("credentials/cookie", "__Host-classcam_session=cs_3f1c0a9e8b7d6c5b4a3928170")
Seed().flag(True).write("credentials/cookies", 'theme=dark; __Host-classcam_session="cs_abc"; other=1')
Seed().flag(False).string("theme").write("credentials/other-cookie", "theme=dark; lang=en")
Seed().flag(True).write("credentials/bearer-unit", "Bearer ct_8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f")
Seed().flag(True).write("credentials/bearer-user", "Bearer cu_0123456789abcdef0123456789abcdef0123456789abcdef")

for name, header in [("first-kb", "bytes=0-1023"), ("suffix", "bytes=-500"), ("open", "bytes=1000-"),
                     ("multi", "bytes=0-1,5-9"), ("past-end", "bytes=5000-6000")]:
    Seed().flag(True).byte(0x10).byte(0x00).write("range/" + name, header)
