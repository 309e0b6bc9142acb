"""Single sign-on's adapter: the OpenID Connect providers a site configures (``settings``) and the relying
party that talks to them through Authlib (``client``)."""
