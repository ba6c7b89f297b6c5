{
  "targets": [
    {
      "target_name": "page_cache",
      "sources": ["native/page-cache.c"],
      "cflags": ["-Wall", "-Wextra"]
    }
  ]
}
