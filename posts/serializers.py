"""Representation and input validation of posts; writes go through posts.services."""

from rest_framework import serializers

from users.models import User

from . import services
from .models import Post


class PostSerializer(serializers.ModelSerializer):
    """A post as the API shows it; `user_id` defaults to the caller on create."""

    user_id = serializers.PrimaryKeyRelatedField(
        source="user", queryset=User.objects.all(), required=False
    )

    class Meta:
        model = Post
        fields = ["id", "user_id", "title", "content", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate_user_id(self, user):
        if self.instance is not None and user.pk != self.instance.user_id:
            raise serializers.ValidationError("A post cannot be moved to another user.")
        return user

    def create(self, validated_data):
        return services.post_create(**validated_data)

    def update(self, instance, validated_data):
        return services.post_update(instance, **validated_data)


class PostCountSerializer(serializers.Serializer):
    """One row of the posts-per-user ranking."""

    user_id = serializers.IntegerField()
    post_count = serializers.IntegerField()
