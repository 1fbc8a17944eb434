#!/usr/bin/env bash
# The name deploy notes use for deploy-pi/build.sh; same thing.
exec "$(dirname "$0")/build.sh" "$@"
