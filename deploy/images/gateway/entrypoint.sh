#!/bin/sh
# Render /etc/nginx/templates/*.template into $NGINX_ENVSUBST_OUTPUT_DIR as the official
# nginx image does: only variables defined in the environment are substituted, so nginx's
# own $host, $request_id, ... stay. Then run the command (nginx in the foreground).
set -eu
out=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
defined=$(printf '${%s} ' $(env | cut -d= -f1))
for template in /etc/nginx/templates/*.template; do
  [ -e "$template" ] || continue
  name=$(basename "$template" .template)
  envsubst "$defined" <"$template" >"$out/$name"
done
exec "$@"
