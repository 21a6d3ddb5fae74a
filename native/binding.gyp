{
  "target_defaults": {
    "sources": ["src/blas.cc"],
    "include_dirs": [
      "<!(node -p \"require('node-addon-api').include_dir\")",
      "/usr/include/x86_64-linux-gnu/openblas-pthread",
      "/usr/include/openblas"
    ],
    "libraries": ["-lopenblas"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
    "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fno-trapping-math", "-fopenmp-simd"]
  },
  "targets": [{ "target_name": "rsg_blas" }],
  "conditions": [
    [
      "target_arch=='x64'",
      {
        "targets": [
          {
            "target_name": "rsg_blas_avx2",
            "cflags_cc": ["-mavx2", "-mfma"]
          }
        ]
      }
    ]
  ]
}
