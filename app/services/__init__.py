"""Business operations. Each public function is one unit of work: it commits, or leaves nothing."""
