"""Providers joining the network: adhesion applications under the ethical code, the
commission's review and decisions with their effects, and providers' own service drafts."""
