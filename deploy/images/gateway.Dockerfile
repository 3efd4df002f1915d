# nginx with the gateway template, where the nginx image cannot be pulled: Debian's nginx,
# started like the official image (templates in /etc/nginx/templates rendered with
# envsubst, only for defined variables, into NGINX_ENVSUBST_OUTPUT_DIR), as a non-root user.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      nginx-light gettext-base curl >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /etc/nginx/sites-enabled/* \
 && groupadd --system --gid 10004 gateway \
 && useradd --system --uid 10004 --gid gateway --home-dir /var/lib/nginx --no-create-home \
      --shell /usr/sbin/nologin gateway \
 && mkdir -p /etc/nginx/templates /var/lib/nginx /run/nginx \
 && chown -R gateway:gateway /etc/nginx/conf.d /var/lib/nginx /run/nginx /var/log/nginx
COPY deploy/images/gateway/nginx.conf /etc/nginx/nginx.conf
COPY deploy/images/gateway/entrypoint.sh /usr/local/bin/overlap-gateway
COPY deploy/gateway/overlap.conf.template /etc/nginx/templates/
COPY deploy/web /usr/share/nginx/html
ENV NGINX_ENVSUBST_OUTPUT_DIR=/etc/nginx/conf.d
USER gateway
EXPOSE 8080
ENTRYPOINT ["overlap-gateway"]
CMD ["nginx", "-g", "daemon off;"]
