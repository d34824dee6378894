"""Professional Challenge engine: a plain library over SQLAlchemy and SpiffWorkflow. It never imports Flask."""
