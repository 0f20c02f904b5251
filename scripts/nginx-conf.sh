#!/usr/bin/env bash
# Print the local nginx configuration for `make run`: it listens on CARILLON_PORT, serves public
# media (segments, playlists, posters) and static files from disk, buffers uploads, and passes
# everything else to the web process.
# Overrides (the benchmarks use them): CARILLON_VAR (nginx's pid and temporary files, static files;
# default var/), CARILLON_MEDIA_ROOT (default <var>/media) and CARILLON_NGINX_EXTRA (directives
# added inside the server block).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${CARILLON_PORT:-8000}"
WEB_PORT="${CARILLON_WEB_PORT:-8001}"
VAR="${CARILLON_VAR:-$ROOT/var}"
MEDIA="${CARILLON_MEDIA_ROOT:-$VAR/media}"
EXTRA="${CARILLON_NGINX_EXTRA:-}"
USER_LINE=""
if [ "$(id -u)" -eq 0 ]; then USER_LINE="user root;"; fi
cat <<CONF
$USER_LINE
worker_processes 1;
pid $VAR/nginx/nginx.pid;
error_log stderr warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $VAR/nginx/client_body;
  proxy_temp_path $VAR/nginx/proxy;
  fastcgi_temp_path $VAR/nginx/fastcgi;
  uwsgi_temp_path $VAR/nginx/uwsgi;
  scgi_temp_path $VAR/nginx/scgi;
  client_max_body_size 0;
  client_body_buffer_size 1m;
  proxy_request_buffering on;
  server_tokens off;

  server {
    listen 127.0.0.1:$PORT;
    location /static/ { alias $VAR/static/; expires 7d; }
    location /media/public/ {
      alias $MEDIA/public/;
      add_header Access-Control-Allow-Origin "*" always;
      location ~ \.m3u8\$ { add_header Cache-Control "max-age=2" always; add_header Access-Control-Allow-Origin "*" always; }
      location ~ \.ts\$ { add_header Cache-Control "public, max-age=86400, immutable" always; add_header Access-Control-Allow-Origin "*" always; }
    }
    location /media/private/ { return 404; }
    # Renditions are private until approved, then published under v/<random key>/ only; this
    # old public place of every transcode (moved by \`manage.py secure_renditions\`) stays closed.
    location ^~ /media/public/assets/ { return 404; }
$EXTRA
    # The continuous MPEG-TS stream (HDHomeRun clients) comes from the web process.
    location ~ ^/live/[^/]+/stream\\.ts\$ {
      proxy_pass http://127.0.0.1:$WEB_PORT;
      proxy_http_version 1.1;
      proxy_set_header Host \$http_host;
      proxy_buffering off;
      proxy_read_timeout 3600s;
    }
    # The live channel, published by the playout process into public storage.
    location /live/ {
      alias $MEDIA/public/live/;
      add_header Access-Control-Allow-Origin "*" always;
      location ~ \.m3u8\$ { add_header Cache-Control "max-age=2" always; add_header Access-Control-Allow-Origin "*" always; }
      # Content-addressed segments only: stream.ts (above) is the web process's.
      location ~ /[0-9]+-[0-9a-f]+\.ts\$ { add_header Cache-Control "public, max-age=86400, immutable" always; add_header Access-Control-Allow-Origin "*" always; }
    }
    # Residents' resumable uploads: each request is one chunk (CARILLON_UPLOAD_CHUNK_BYTES),
    # streamed to the web process as it arrives.
    location /api/v1/uploads/ {
      client_max_body_size 10m;
      proxy_request_buffering off;
      proxy_pass http://127.0.0.1:$WEB_PORT;
      proxy_http_version 1.1;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_read_timeout 600s;
    }
    location / {
      proxy_pass http://127.0.0.1:$WEB_PORT;
      proxy_http_version 1.1;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_read_timeout 3600s;
    }
  }
}
CONF
