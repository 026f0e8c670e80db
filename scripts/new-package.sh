#!/usr/bin/env bash
# Scaffold a workspace package: scripts/new-package.sh <dir> <name> "<description>" [dep ...]
set -euo pipefail
dir=$1; name=$2; desc=$3; shift 3
mkdir -p "$dir/src"
deps=""
refs=""
for d in "$@"; do
  deps="$deps    \"$d\": \"workspace:*\",\n"
done
deps=${deps%,\\n}
cat > "$dir/package.json" <<JSON
{
  "name": "$name",
  "version": "0.1.0",
  "description": "$desc",
  "license": "Apache-2.0",
  "type": "module",
  "sideEffects": false,
  "engines": { "node": ">=20.11" },
  "exports": {
    ".": {
      "@promax/source": "./src/index.ts",
      "types": "./dist/index.d.ts",
      "default": "./dist/index.js"
    }
  },
  "main": "./dist/index.js",
  "types": "./dist/index.d.ts",
  "files": ["dist", "src", "!src/**/*.test.ts"],
  "scripts": { "build": "tsc -b" },
  "dependencies": {
$(printf "$deps")
  }
}
JSON
cat > "$dir/tsconfig.json" <<JSON
{
  "extends": "../../tsconfig.base.json",
  "compilerOptions": { "rootDir": "src", "outDir": "dist" },
  "include": ["src"],
  "exclude": ["src/**/*.test.ts", "src/**/*.bench.ts"]
}
JSON
[ -f "$dir/src/index.ts" ] || echo "export {};" > "$dir/src/index.ts"
[ -f "$dir/README.md" ] || printf "# $name\n\n$desc\n" > "$dir/README.md"
