"""What a failure leaves behind: screenshots, traces and pages, scrubbed of secrets, bounded."""
