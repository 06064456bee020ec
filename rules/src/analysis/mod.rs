//! CL4xx: metrics, webhooks and alerts.
